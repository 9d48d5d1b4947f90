/**
 * Consumes CourseFactory's events from the durable consumer and routes every outcome; nothing is dropped silently.
 * Per message: decode (size, JSON, schema; lenient about unknown fields) -> handler in one transaction that claims
 * the message id first -> ack after commit. Who acks: this module, always after the transaction has ended.
 * - duplicate (already claimed) -> ack, no effect;
 * - permanent error (not JSON, schema violation, a rule that can never pass) -> dead letter (subject, headers,
 *   bytes, reason, delivery count) then term(); term() without a reason, which nats-server 2.9 ignores otherwise;
 * - transient error (database unreachable, a conflict) -> nak(delay), the delay growing with the delivery count up
 *   to a cap; on the last allowed delivery the message is dead-lettered instead;
 * - database unreachable -> the whole consumer pauses (stops pulling) and probes the database with a growing delay,
 *   so an outage does not burn every message's deliveries; pulling resumes when the database answers.
 * Subjects other than the two we consume (CourseFactory publishes more under course.>) are acked and ignored.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import type { ConsumerSettings } from '../config.js';
import { CONSUMED_EVENT_TYPES, type ConsumedEventType } from '../contracts/event-types.js';
import { formatIssues } from '../contracts/validator.js';
import type { ServiceDeps } from '../application/deps.js';
import { onDeployedStaging, onGenerationCompleted, type UpstreamOutcome } from '../application/upstream-events.js';
import { ServiceFailure } from '../errors.js';
import { isDatabaseUnavailable } from '../persistence/db-errors.js';
import { markDeadLetterReplayed, storeDeadLetter, type DeadLetter } from '../persistence/dead-letters.js';
import type { ConsumedEventEnvelope, CourseDeployedStagingEvent, CourseGenerationCompletedEvent } from '../../generated/types.js';
import { withPrefix } from './subjects.js';

/** A message that can never be processed as it is. */
export class PermanentMessageError extends Error {
  override name = 'PermanentMessageError';
}

/** A message as delivered (or as stored in a dead letter for a replay). */
export interface UpstreamDelivery {
  subject: string;
  headers: Record<string, string[]>;
  data: Uint8Array;
  stream: string;
  streamSeq: number;
}

export type ProcessOutcome = UpstreamOutcome | 'ignored';

export interface ConsumerHooks {
  /** Test seam: called after the transaction committed, before the ack; returning false skips the ack (a crash). */
  beforeAck?: (delivery: UpstreamDelivery, outcome: ProcessOutcome) => boolean;
}

export interface UpstreamConsumer {
  start(): void;
  /** Stops pulling and waits for the messages in hand to be settled. */
  stop(): Promise<void>;
  /** Runs a dead letter's original message through the same path (same dedup) and records the outcome. */
  replay(letter: DeadLetter): Promise<ProcessOutcome>;
  status(): { paused: boolean; inFlight: number; processed: number; deadLettered: number };
}

export function headersToRecord(headers: MsgHdrs | undefined): Record<string, string[]> {
  const record: Record<string, string[]> = {};
  for (const [key, values] of headers ?? []) record[key] = values;
  return record;
}

/** The dedup key (notes/nats.md): the producer's Nats-Msg-Id, else the envelope id, else stream + sequence. */
export function messageIdOf(delivery: UpstreamDelivery, envelopeId: string | undefined): string {
  return delivery.headers['Nats-Msg-Id']?.[0] || envelopeId || `${delivery.stream}:${delivery.streamSeq}`;
}

export function createUpstreamConsumer(nc: NatsConnection, deps: ServiceDeps, settings: ConsumerSettings, subjectPrefix: string, hooks: ConsumerHooks = {}): UpstreamConsumer {
  const log = deps.log.child({ component: 'upstream-consumer', consumer: settings.durableName });
  const js = jetstream(nc);
  const inFlight = new Set<Promise<void>>();
  let messages: ConsumerMessages | undefined;
  let loop: Promise<void> | undefined;
  let stopping = false;
  const stopped = new AbortController();
  /** Waits, but not past stop(). */
  const pauseFor = (ms: number) => sleep(ms, undefined, { signal: stopped.signal }).catch(() => undefined);
  let paused = false;
  let processed = 0;
  let deadLettered = 0;

  /** `course.generation.completed[.<token>]` under the deployment prefix -> the event type, if we consume it. */
  function eventTypeOf(subject: string): ConsumedEventType | undefined {
    const root = withPrefix(subjectPrefix, '');
    const bare = subjectPrefix ? (subject.startsWith(root) ? subject.slice(root.length) : '') : subject;
    return CONSUMED_EVENT_TYPES.find((type) => bare === type || bare.startsWith(`${type}.`));
  }

  async function process(delivery: UpstreamDelivery): Promise<ProcessOutcome> {
    const type = eventTypeOf(delivery.subject);
    if (!type) return 'ignored';
    const decoded = deps.validator.parse(type, delivery.data);
    if (!decoded.ok) throw new PermanentMessageError(`${type} rejected (${decoded.kind}): ${formatIssues(decoded.issues)}`);
    const envelope = decoded.value as ConsumedEventEnvelope;
    const message = {
      identity: {
        consumer: settings.durableName,
        messageId: messageIdOf(delivery, envelope.id),
        stream: delivery.stream,
        streamSeq: delivery.streamSeq,
        subject: delivery.subject,
      },
      eventId: envelope.id,
      correlationId: envelope.meta?.correlation_id ?? undefined,
    };
    try {
      switch (type) {
        case 'course.generation.completed':
          return await onGenerationCompleted(deps, message, decoded.value as CourseGenerationCompletedEvent);
        case 'course.deployed.staging':
          return await onDeployedStaging(deps, message, decoded.value as CourseDeployedStagingEvent);
      }
    } catch (err) {
      // A rule that can never pass for this message (4xx other than a conflict) will not pass on a redelivery.
      if (err instanceof ServiceFailure && err.status < 500 && err.code !== 'VERSION_CONFLICT') {
        throw new PermanentMessageError(`${type} refused: ${err.code}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  async function deadLetter(delivery: UpstreamDelivery, reason: string, deliveryCount: number): Promise<void> {
    const id = await storeDeadLetter(deps.orm.em.fork(), {
      consumer: settings.durableName,
      messageId: delivery.headers['Nats-Msg-Id']?.[0] ?? null,
      subject: delivery.subject,
      headers: delivery.headers,
      data: delivery.data,
      reason,
      deliveryCount,
      stream: delivery.stream,
      streamSeq: delivery.streamSeq,
    });
    deadLettered++;
    log.warn({ dead_letter_id: id, subject: delivery.subject, reason, delivery_count: deliveryCount }, 'message dead-lettered');
  }

  function retryDelay(deliveryCount: number): number {
    const exponential = settings.retryBaseMs * 2 ** Math.max(0, deliveryCount - 1);
    return Math.round(Math.min(settings.retryMaxMs, exponential) * (0.8 + Math.random() * 0.4));
  }

  async function settle(m: JsMsg): Promise<void> {
    const delivery: UpstreamDelivery = {
      subject: m.subject,
      headers: headersToRecord(m.headers),
      data: m.data,
      stream: m.info.stream,
      streamSeq: m.info.streamSequence,
    };
    const deliveryCount = m.info.deliveryCount;
    // A message may wait in its mailbox behind other work: tell the server we still have it, so ack_wait does not
    // hand it to another instance meanwhile (that would be harmless, the inbox dedups, but wasted).
    const stillWorking = setInterval(() => m.working(), Math.max(500, settings.ackWaitMs / 2));
    try {
      const outcome = await process(delivery);
      processed++;
      if (hooks.beforeAck && !hooks.beforeAck(delivery, outcome)) return;
      m.ack();
      log.debug({ subject: m.subject, seq: delivery.streamSeq, outcome, delivery_count: deliveryCount }, 'message settled');
    } catch (err) {
      const permanent = err instanceof PermanentMessageError;
      const lastChance = deliveryCount >= settings.maxDeliver;
      if (permanent || lastChance) {
        const reason = permanent ? (err as Error).message : `gave up after ${deliveryCount} deliveries: ${(err as Error).message}`;
        try {
          await deadLetter(delivery, reason, deliveryCount);
          m.term();
          return;
        } catch (storeErr) {
          log.error({ err: storeErr, subject: m.subject }, 'could not store the dead letter; the message is retried');
        }
      }
      const delay = retryDelay(deliveryCount);
      m.nak(delay);
      if (isDatabaseUnavailable(err) || (err instanceof ServiceFailure && err.code === 'UNAVAILABLE')) pause();
      else log.warn({ err, subject: m.subject, delivery_count: deliveryCount, retry_in_ms: delay }, 'message failed; retrying');
    } finally {
      clearInterval(stillWorking);
    }
  }

  function pause(): void {
    if (paused) return;
    paused = true;
    log.warn('database unavailable: consumption paused until it answers');
    messages?.stop();
  }

  async function waitForDatabase(): Promise<void> {
    let delay = settings.retryBaseMs;
    while (!stopping) {
      try {
        await deps.orm.em.fork().execute('select 1');
        paused = false;
        log.info('database answers again: consumption resumed');
        return;
      } catch {
        await pauseFor(delay);
        delay = Math.min(delay * 2, settings.retryMaxMs);
      }
    }
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      if (paused) await waitForDatabase();
      if (stopping) break;
      try {
        const consumer = await js.consumers.get(settings.streamName, settings.durableName);
        messages = await consumer.consume({ max_messages: Math.min(settings.maxAckPending, 256) });
        failures = 0;
        for await (const m of messages) {
          while (inFlight.size >= settings.concurrency) await Promise.race(inFlight);
          const settling: Promise<void> = settle(m).finally(() => inFlight.delete(settling));
          inFlight.add(settling);
        }
      } catch (err) {
        if (!stopping) {
          // E.g. the stream or the consumer does not exist (yet): retry, less and less often.
          const delay = Math.min(settings.retryBaseMs * 2 ** failures++, settings.retryMaxMs);
          log.error({ err, retry_in_ms: delay }, 'consuming failed; retrying');
          await pauseFor(delay);
        }
      }
    }
    await Promise.all(inFlight);
  }

  return {
    start() {
      loop ??= run();
    },
    async stop() {
      stopping = true;
      stopped.abort();
      messages?.stop();
      await loop;
      await Promise.all(inFlight);
    },
    async replay(letter) {
      const outcome = await process({
        subject: letter.subject,
        headers: letter.headers,
        data: letter.data,
        stream: letter.stream ?? '',
        streamSeq: letter.streamSeq ?? 0,
      });
      await markDeadLetterReplayed(deps.orm.em.fork(), letter.id, outcome);
      return outcome;
    },
    status: () => ({ paused, inFlight: inFlight.size, processed, deadLettered }),
  };
}
