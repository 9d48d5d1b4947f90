/**
 * One consumed CourseFactory message, transport aside: decode it (size, JSON, schema; lenient about unknown
 * fields), give it its dedup identity and hand it to its event's handler (upstream-events.ts), which applies it in
 * one transaction that claims the message id first. A message that cannot be decoded throws PermanentMessageError;
 * what else is thrown is judged by the failure policy. Subjects other than the two we consume (CourseFactory
 * publishes more under course.>) come out 'ignored'.
 */
import type { ConsumedEventEnvelope, CourseDeployedStagingEvent, CourseGenerationCompletedEvent } from '../../generated/types.js';
import { CONSUMED_EVENT_TYPES, type ConsumedEventType } from '../contracts/event-types.js';
import { formatIssues } from '../contracts/validator.js';
import { PermanentMessageError } from '../errors.js';
import type { ServiceDeps } from './deps.js';
import { onDeployedStaging, onGenerationCompleted, type UpstreamMessage, type UpstreamOutcome } from './upstream-events.js';

/** A message as delivered (or as stored in a dead letter, for a replay). */
export interface UpstreamDelivery {
  subject: string;
  headers: Record<string, string[]>;
  data: Uint8Array;
  stream: string;
  streamSeq: number;
}

export type ProcessOutcome = UpstreamOutcome | 'ignored';

/**
 * What the handler learned about a message, filled in as soon as it is decoded (so a message that fails later is
 * still identified): the dedup key, the envelope id and the course. Left empty for a message that is ignored or
 * cannot be decoded.
 */
export interface MessageIdentification {
  messageId?: string;
  eventId?: string;
  courseId?: string;
}

/**
 * The dedup key: the producer's Nats-Msg-Id (what JetStream itself dedups on), else the envelope id, else the
 * stream and sequence (which identify a redelivery, though not a re-publish).
 */
export function messageIdOf(delivery: UpstreamDelivery, envelopeId: string | undefined): string {
  return delivery.headers['Nats-Msg-Id']?.[0] || envelopeId || `${delivery.stream}:${delivery.streamSeq}`;
}

/**
 * The dedup key of a message that failed before it was decoded (a dead letter's identity): as `messageIdOf`, with
 * the envelope id read leniently (any JSON object with a string `id`, up to `maxBytes`), so every delivery of one
 * poison message, and a re-publish of it, maps to one key.
 */
export function messageIdOfUndecoded(delivery: UpstreamDelivery, maxBytes: number): string {
  let envelopeId: string | undefined;
  if (!delivery.headers['Nats-Msg-Id']?.[0] && delivery.data.length <= maxBytes) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(delivery.data).toString('utf8'));
      if (parsed && typeof parsed === 'object' && typeof (parsed as { id?: unknown }).id === 'string') envelopeId = (parsed as { id: string }).id;
    } catch {
      // not JSON: the stream sequence identifies its redeliveries
    }
  }
  return messageIdOf(delivery, envelopeId);
}

/** `course.generation.completed[.<token>]` under the deployment prefix -> the event type, if we consume it. */
export function consumedEventTypeOf(subjectPrefix: string, subject: string): ConsumedEventType | undefined {
  const root = subjectPrefix ? `${subjectPrefix}.` : '';
  if (!subject.startsWith(root)) return undefined;
  const bare = subject.slice(root.length);
  return CONSUMED_EVENT_TYPES.find((type) => bare === type || bare.startsWith(`${type}.`));
}

/** Handles one message; `seen`, when given, receives the message's identification (for the consumer's log line). */
export type UpstreamMessageHandler = (delivery: UpstreamDelivery, seen?: MessageIdentification) => Promise<ProcessOutcome>;

/** Options of the decoding: whose inbox, which deployment prefix, the size limit of an event. */
export interface UpstreamDecodeOptions {
  consumerName: string;
  subjectPrefix: string;
  /** Larger messages are dead-lettered as too large. */
  maxEventBytes: number;
}

/** A message decoded: its event, typed by its type, and the message's dedup identity and lineage. */
export type DecodedUpstream =
  | { type: 'course.generation.completed'; message: UpstreamMessage; event: CourseGenerationCompletedEvent }
  | { type: 'course.deployed.staging'; message: UpstreamMessage; event: CourseDeployedStagingEvent };

/**
 * Decodes a delivery: undefined for a subject we do not consume (ignored); throws PermanentMessageError when it
 * cannot be decoded. Fills `seen` as soon as the message is identified.
 */
export function decodeUpstream(
  deps: Pick<ServiceDeps, 'validator'>,
  options: UpstreamDecodeOptions,
  delivery: UpstreamDelivery,
  seen?: MessageIdentification,
): DecodedUpstream | undefined {
  const type = consumedEventTypeOf(options.subjectPrefix, delivery.subject);
  if (!type) return undefined;
  const decoded = deps.validator.parse(type, delivery.data, { maxBytes: options.maxEventBytes });
  if (!decoded.ok) throw new PermanentMessageError(`${type} rejected (${decoded.kind}): ${formatIssues(decoded.issues)}`);
  const envelope = decoded.value as ConsumedEventEnvelope;
  const message: UpstreamMessage = {
    identity: {
      consumer: options.consumerName,
      messageId: messageIdOf(delivery, envelope.id),
      stream: delivery.stream,
      streamSeq: delivery.streamSeq,
      subject: delivery.subject,
    },
    eventId: envelope.id,
    correlationId: envelope.meta?.correlation_id ?? undefined,
  };
  if (seen) {
    seen.messageId = message.identity.messageId;
    seen.eventId = envelope.id;
    seen.courseId = decoded.value.payload.course_id;
  }
  switch (type) {
    case 'course.generation.completed':
      return { type, message, event: decoded.value as CourseGenerationCompletedEvent };
    case 'course.deployed.staging':
      return { type, message, event: decoded.value as CourseDeployedStagingEvent };
    default: {
      const unknown: never = type;
      throw new Error(`no handler for ${String(unknown)}`);
    }
  }
}

export function createUpstreamMessageHandler(deps: ServiceDeps, options: UpstreamDecodeOptions): UpstreamMessageHandler {
  return async (delivery, seen) => {
    const decoded = decodeUpstream(deps, options, delivery, seen);
    return decoded ? handleDecoded(deps, decoded) : 'ignored';
  };
}

/** The per-message path of a decoded message: its own mailbox turn and transaction (upstream-events.ts). */
export function handleDecoded(deps: ServiceDeps, decoded: DecodedUpstream): Promise<UpstreamOutcome> {
  switch (decoded.type) {
    case 'course.generation.completed':
      return onGenerationCompleted(deps, decoded.message, decoded.event);
    case 'course.deployed.staging':
      return onDeployedStaging(deps, decoded.message, decoded.event);
    default: {
      const unknown: never = decoded;
      throw new Error(`no handler for ${String((unknown as DecodedUpstream).type)}`);
    }
  }
}
