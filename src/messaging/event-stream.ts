/**
 * Provisions the stream our events go to (CONTRACT.md: `DISTRIBUTION`, subjects `distribution.>`).
 *
 * Contract: a missing stream is created with the wanted config; an existing one is only compared, never changed:
 * every difference is logged as drift for an operator to resolve. On nats-server 2.9 `streams.add` upserts (it
 * would silently rewrite a stream someone tuned by hand), so we `info()` first and `add()` only on "not found".
 * Works on 2.9 and 2.10+: only fields both know are set and compared.
 */
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { EventStreamConfig } from '../config.js';
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

const COMPARED = ['subjects', 'storage', 'retention', 'discard', 'num_replicas', 'max_age', 'max_bytes', 'duplicate_window'] as const;

export interface StreamDrift {
  field: (typeof COMPARED)[number];
  wanted: unknown;
  actual: unknown;
}

/** The fields where the running stream differs from the wanted config (subjects compared as a set). */
export function streamDrift(wanted: StreamConfig, actual: StreamConfig): StreamDrift[] {
  const drift: StreamDrift[] = [];
  for (const field of COMPARED) {
    const w = wanted[field];
    const a = actual[field];
    const same = Array.isArray(w) && Array.isArray(a) ? [...w].sort().join(' ') === [...a].sort().join(' ') : w === a;
    if (!same) drift.push({ field, wanted: w, actual: a });
  }
  return drift;
}

export type EnsureStreamOutcome = { kind: 'created'; info: StreamInfo } | { kind: 'verified'; info: StreamInfo; drift: StreamDrift[] };

/**
 * Creates the stream when it is missing, else verifies it; drift is logged at warn and returned, not fixed.
 * Two instances starting at once may both see "missing": the loser's `add` meets an identical stream (a no-op on
 * 2.9, "already in use" on 2.10+ when configs differ), and then verifies it like any existing one.
 */
export async function ensureStream(jsm: JetStreamManager, config: EventStreamConfig, subjectPrefix: string, log: Logger): Promise<EnsureStreamOutcome> {
  const wanted = wantedStreamConfig(config, subjectPrefix);
  let info = await streamInfo(jsm, wanted.name);
  if (!info) {
    try {
      info = await jsm.streams.add(wanted);
      log.info({ stream: wanted.name, subjects: wanted.subjects, replicas: wanted.num_replicas }, 'event stream created');
      return { kind: 'created', info };
    } catch (err) {
      info = await streamInfo(jsm, wanted.name);
      if (!info) throw err;
    }
  }
  const drift = streamDrift(wanted, info.config);
  if (drift.length > 0) {
    log.warn({ stream: wanted.name, drift }, 'event stream differs from the configured one; left as it is (an operator decides)');
  }
  return { kind: 'verified', info, drift };
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw err;
  }
}

/**
 * Ensures the stream at start without making JetStream a precondition of serving commands: resolves after the
 * first attempt; when that fails (JetStream unreachable), it logs and keeps trying every `retryMs` in the
 * background until it succeeds or `signal` aborts. Meanwhile the relay keeps the rows and retries.
 */
export async function provisionEventStream(
  nc: NatsConnection,
  config: EventStreamConfig,
  subjectPrefix: string,
  log: Logger,
  options: { retryMs: number; signal: AbortSignal },
): Promise<void> {
  const attempt = async (): Promise<boolean> => {
    try {
      await ensureStream(await jetstreamManager(nc), config, subjectPrefix, log);
      return true;
    } catch (err) {
      log.error({ err, stream: config.name }, 'could not create or verify the event stream; the outbox keeps events until it can publish');
      return false;
    }
  };
  if (await attempt()) return;
  void (async () => {
    while (!options.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, options.retryMs).unref());
      if (options.signal.aborted || (await attempt())) return;
    }
  })();
}
