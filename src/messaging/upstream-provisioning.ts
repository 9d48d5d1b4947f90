/**
 * The durable consumer CONSUMER_DURABLE (default `distribution_consumer`) on CourseFactory's stream COURSE_STREAM
 * (default `COURSE`). CourseFactory owns the stream: we create it only when configured to (development, tests).
 * The consumer is created when missing and otherwise only compared: on nats-server 2.9 `consumers.add` silently
 * rewrites an existing durable, so a difference is logged for an operator instead (ensure-jetstream-resource.ts).
 * One filter subject (`course.>`), which 2.9 supports.
 *
 * Settings and why: explicit acks; `max_deliver` -1 (unlimited): the limit is the service's own
 * (CONSUMER_MAX_DELIVER, after which the handler dead-letters a failing message), so the server never drops a
 * message whose dead letter could not be stored yet (a read-only database after a failover, a full disk, a crash);
 * a finite server limit would be spent by a long enough outage of the dead-letter table. No server `backoff` (2.9 would replace ack_wait with backoff[0]): retries
 * are the handler's `nak(delay)` with a capped exponential delay; `ack_wait` long enough for a transaction under
 * load (handlers call working() for longer work); `max_ack_pending` high enough not to throttle consumption.
 */
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { ConsumerSettings } from '../config.js';
import { durableConsumerAccess, ensureJetStreamResource, provisionWithRetry, streamAccess, type ProvisionRetry } from './ensure-jetstream-resource.js';
import { withPrefix } from './subjects.js';

/** CourseFactory's event subjects under a deployment prefix: `[prefix.]course.>`. */
export function upstreamFilterSubject(subjectPrefix: string): string {
  return withPrefix(subjectPrefix, 'course.>');
}

/** The server's max_deliver: none; the service enforces CONSUMER_MAX_DELIVER (consumer-settlement.ts). */
export const UNLIMITED_DELIVERIES = -1;

/** The durable's config we want (the settings above and why). */
export function wantedConsumerConfig(settings: ConsumerSettings, subjectPrefix: string): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: settings.durableName,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: upstreamFilterSubject(subjectPrefix),
    max_deliver: UNLIMITED_DELIVERIES,
    ack_wait: nanos(settings.ackWaitMs),
    max_ack_pending: settings.maxAckPending,
  };
}

/** The fields we own on the durable, compared with the running one. */
const COMPARED = ['ack_policy', 'deliver_policy', 'filter_subject', 'max_deliver', 'ack_wait', 'max_ack_pending'] as const;

/**
 * Creates the upstream stream (only when `settings.createStream`) and the durable consumer when missing; an
 * existing durable is compared and drift logged, never changed (see ensure-jetstream-resource.ts). Fails while
 * CourseFactory's stream does not exist.
 */
export async function ensureUpstreamConsumer(jsm: JetStreamManager, settings: ConsumerSettings, subjectPrefix: string, log: Logger): Promise<void> {
  if (settings.createStream) {
    const stream = { name: settings.streamName, subjects: [upstreamFilterSubject(subjectPrefix)], storage: StorageType.File, retention: RetentionPolicy.Limits };
    const created = { fields: { stream: settings.streamName }, msg: 'created the upstream stream (COURSE_STREAM_CREATE=true; in production CourseFactory owns it)' };
    await ensureJetStreamResource({ ...streamAccess(jsm, stream), created }, log); // no `compare`: CourseFactory owns the stream
  }
  const wanted = wantedConsumerConfig(settings, subjectPrefix);
  const created = { fields: { stream: settings.streamName, consumer: settings.durableName }, msg: 'created the durable upstream consumer' };
  const drifted = { fields: { consumer: settings.durableName }, msg: 'upstream consumer differs from the configured one; left as it is' };
  await ensureJetStreamResource({ ...durableConsumerAccess(jsm, settings.streamName, wanted), created, compare: { fields: COMPARED, drifted } }, log);
}

/**
 * Ensures the upstream stream and consumer at start: resolves after the first attempt; when that fails
 * (JetStream unreachable, CourseFactory's stream not there yet), it logs and keeps trying every `retry.retryMs` in
 * the background until it succeeds or `retry.signal` aborts. Meanwhile consuming retries on its own.
 */
export function provisionUpstreamConsumer(nc: NatsConnection, settings: ConsumerSettings, subjectPrefix: string, log: Logger, retry: ProvisionRetry): Promise<void> {
  const message = 'could not create or verify the upstream consumer; consuming retries';
  return provisionWithRetry(nc, retry, (jsm) => ensureUpstreamConsumer(jsm, settings, subjectPrefix, log), { log, message, fields: { stream: settings.streamName } });
}
