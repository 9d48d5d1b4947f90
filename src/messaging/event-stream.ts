/**
 * Provisions the stream our events go to: DISTRIBUTION_STREAM (default `DISTRIBUTION`), subjects
 * `[prefix.]distribution.>`, as schemas/asyncapi.yaml documents it.
 *
 * Contract: a missing stream is created with the wanted config; an existing one is only compared, never changed
 * (ensure-jetstream-resource.ts). Works on 2.9 and 2.10+: only fields both know are set and compared.
 */
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { EventStreamConfig } from '../config.js';
import { ensureJetStreamResource, provisionWithRetry, streamAccess, type EnsureOutcome, type ProvisionRetry } from './ensure-jetstream-resource.js';
import { withPrefix } from './subjects.js';

/** The subjects of the event stream under a deployment prefix: `[prefix.]distribution.>`. */
export function eventStreamSubject(subjectPrefix: string): string {
  return withPrefix(subjectPrefix, 'distribution.>');
}

/** The stream config we want: file storage, limits retention, the configured limits and duplicate window. */
export function wantedStreamConfig(config: EventStreamConfig, subjectPrefix: string): StreamConfig {
  return {
    name: config.name,
    subjects: [eventStreamSubject(subjectPrefix)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: config.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
    num_replicas: config.replicas,
    max_age: nanos(config.maxAgeMs),
    max_bytes: config.maxBytes,
    duplicate_window: nanos(config.duplicateWindowMs),
  } as StreamConfig;
}

/** The fields we own on the event stream, compared with the running one. */
const COMPARED = ['subjects', 'storage', 'retention', 'discard', 'num_replicas', 'max_age', 'max_bytes', 'duplicate_window'] as const;

/** Creates the event stream when it is missing, else compares it (see ensure-jetstream-resource.ts). */
export function ensureStream(jsm: JetStreamManager, config: EventStreamConfig, subjectPrefix: string, log: Logger): Promise<EnsureOutcome<Partial<StreamConfig>, StreamInfo>> {
  const wanted = wantedStreamConfig(config, subjectPrefix);
  const drifted = { fields: { stream: wanted.name }, msg: 'event stream differs from the configured one; left as it is (an operator decides)' };
  const created = { fields: { stream: wanted.name, subjects: wanted.subjects, replicas: wanted.num_replicas }, msg: 'event stream created' };
  return ensureJetStreamResource({ ...streamAccess(jsm, wanted), created, compare: { fields: COMPARED, drifted } }, log);
}

/**
 * Ensures the stream at start without making JetStream a precondition of serving commands: resolves after the
 * first attempt; when that fails (JetStream unreachable), it logs and keeps trying every `retry.retryMs` in the
 * background until it succeeds or `retry.signal` aborts. Meanwhile the relay keeps the rows and retries.
 */
export function provisionEventStream(nc: NatsConnection, config: EventStreamConfig, subjectPrefix: string, log: Logger, retry: ProvisionRetry): Promise<void> {
  const message = 'could not create or verify the event stream; the outbox keeps events until it can publish';
  return provisionWithRetry(nc, retry, (jsm) => ensureStream(jsm, config, subjectPrefix, log), { log, message, fields: { stream: config.name } });
}
