/**
 * The durable consumer `distribution_consumer` on CourseFactory's stream COURSE (CONTRACT.md). CourseFactory owns
 * the stream: we create it only when configured to (development, tests). The consumer is created when missing and
 * otherwise only compared: on nats-server 2.9 `consumers.add` silently rewrites an existing durable, so a
 * difference is logged for an operator instead. One filter subject (`course.>`), which 2.9 supports.
 *
 * Settings and why: explicit acks; `max_deliver` finite, so a poison message cannot loop forever (the handler
 * dead-letters it on its last delivery); no server `backoff` (2.9 would replace ack_wait with backoff[0]): retries
 * are the handler's `nak(delay)` with a capped exponential delay; `ack_wait` long enough for a transaction under
 * load (handlers call working() for longer work); `max_ack_pending` high enough not to throttle consumption.
 */
import { nanos } from '@nats-io/nats-core';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { ConsumerSettings } from '../config.js';
import { withPrefix } from './subjects.js';

export function upstreamFilterSubject(subjectPrefix: string): string {
  return withPrefix(subjectPrefix, 'course.>');
}

export function wantedConsumerConfig(settings: ConsumerSettings, subjectPrefix: string): Partial<ConsumerConfig> {
  return {
    durable_name: settings.durableName,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: upstreamFilterSubject(subjectPrefix),
    max_deliver: settings.maxDeliver,
    ack_wait: nanos(settings.ackWaitMs),
    max_ack_pending: settings.maxAckPending,
  };
}

const COMPARED = ['ack_policy', 'deliver_policy', 'filter_subject', 'max_deliver', 'ack_wait', 'max_ack_pending'] as const;

function isNotFound(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.ConsumerNotFound || err.code === JetStreamApiCodes.StreamNotFound)
  );
}

export async function ensureUpstreamConsumer(jsm: JetStreamManager, settings: ConsumerSettings, subjectPrefix: string, log: Logger): Promise<void> {
  if (settings.createStream) {
    try {
      await jsm.streams.info(settings.streamName);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.streams.add({
        name: settings.streamName,
        subjects: [upstreamFilterSubject(subjectPrefix)],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
      });
      log.info({ stream: settings.streamName }, 'created the upstream stream (COURSE_STREAM_CREATE=true; in production CourseFactory owns it)');
    }
  }
  const wanted = wantedConsumerConfig(settings, subjectPrefix);
  try {
    const info = await jsm.consumers.info(settings.streamName, settings.durableName);
    const drift = COMPARED.filter((field) => wanted[field] !== info.config[field]).map((field) => ({
      field,
      wanted: wanted[field],
      actual: info.config[field],
    }));
    if (drift.length > 0) log.warn({ consumer: settings.durableName, drift }, 'upstream consumer differs from the configured one; left as it is');
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.consumers.add(settings.streamName, wanted);
    log.info({ stream: settings.streamName, consumer: settings.durableName }, 'created the durable upstream consumer');
  }
}
