/**
 * Ensures one JetStream resource (a stream, a durable consumer) without ever changing one that exists: a missing
 * resource is created with the wanted config; an existing one is only compared on the fields we own, and every
 * difference is logged as drift for an operator to resolve. On nats-server 2.9 `consumers.add` on an existing
 * durable silently upserts (it would rewrite a durable someone tuned by hand), so a resource is always read first
 * and created only on "not found".
 *
 * Two instances starting at once may both see "missing": the loser's create meets the winner's resource (the same
 * config is accepted; a stream with a different one is refused as "already in use"); after a refused create the
 * resource is read again and compared like any existing one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';

/** One field where the running resource differs from the wanted config. */
export interface ConfigDrift<C> {
  field: keyof C & string;
  wanted: unknown;
  actual: unknown;
}

/** A log line: its fields and its message. */
export interface LogLine {
  fields: Record<string, unknown>;
  msg: string;
}

/** How to read and create one resource, and the config we want it to have. */
export interface ResourceAccess<C, I extends { config: C }> {
  /** Reads the running resource. */
  read(): Promise<I>;
  /** The API error codes (JetStreamApiCodes) by which `read` says the resource does not exist. */
  notFound: readonly number[];
  /** Creates the resource with `wanted`. */
  create(): Promise<I>;
  wanted: C;
}

/** One resource to ensure: its access, and what to log. */
export interface JetStreamResource<C, I extends { config: C }> extends ResourceAccess<C, I> {
  /** Logged at info after creating it. */
  created: LogLine;
  /**
   * The fields we own, compared with the running config (arrays as sets; the rest is left to operators), and the
   * line logged at warn, with `drift` added, when they differ. Without it an existing resource is taken as it is.
   */
  compare?: { fields: readonly (keyof C & string)[]; drifted: LogLine };
}

/** A stream by its name. */
export function streamAccess(jsm: JetStreamManager, wanted: Partial<StreamConfig> & Pick<StreamConfig, 'name'>): ResourceAccess<Partial<StreamConfig>, StreamInfo> {
  return {
    read: () => jsm.streams.info(wanted.name),
    notFound: [JetStreamApiCodes.StreamNotFound],
    create: () => jsm.streams.add(wanted),
    wanted,
  };
}

/** A durable consumer of `stream`. A missing stream reads as a missing consumer, whose create then fails. */
export function durableConsumerAccess(
  jsm: JetStreamManager,
  stream: string,
  wanted: Partial<ConsumerConfig> & { durable_name: string },
): ResourceAccess<Partial<ConsumerConfig>, ConsumerInfo> {
  return {
    read: () => jsm.consumers.info(stream, wanted.durable_name),
    notFound: [JetStreamApiCodes.ConsumerNotFound, JetStreamApiCodes.StreamNotFound],
    create: () => jsm.consumers.add(stream, wanted),
    wanted,
  };
}

export type EnsureOutcome<C, I> = { kind: 'created'; info: I } | { kind: 'verified'; info: I; drift: Array<ConfigDrift<C>> };

/** Creates `resource` when it is missing, else compares it; drift is logged at warn and returned, never fixed. */
export async function ensureJetStreamResource<C, I extends { config: C }>(resource: JetStreamResource<C, I>, log: Logger): Promise<EnsureOutcome<C, I>> {
  let info = await readUnlessMissing(resource);
  if (!info) {
    try {
      info = await resource.create();
      log.info(resource.created.fields, resource.created.msg);
      return { kind: 'created', info };
    } catch (err) {
      info = await readUnlessMissing(resource);
      if (!info) throw err;
    }
  }
  const { compare } = resource;
  const drift = compare ? configDrift(resource.wanted, info.config, compare.fields) : [];
  if (compare && drift.length > 0) log.warn({ ...compare.drifted.fields, drift }, compare.drifted.msg);
  return { kind: 'verified', info, drift };
}

/** The `fields` where `actual` differs from `wanted`; arrays are compared as sets, everything else with `===`. */
export function configDrift<C>(wanted: C, actual: C, fields: readonly (keyof C & string)[]): Array<ConfigDrift<C>> {
  const drift: Array<ConfigDrift<C>> = [];
  for (const field of fields) {
    const w = wanted[field];
    const a = actual[field];
    const same = Array.isArray(w) && Array.isArray(a) ? [...w].sort().join(' ') === [...a].sort().join(' ') : w === a;
    if (!same) drift.push({ field, wanted: w, actual: a });
  }
  return drift;
}

async function readUnlessMissing<C, I extends { config: C }>(resource: JetStreamResource<C, I>): Promise<I | undefined> {
  try {
    return await resource.read();
  } catch (err) {
    if (err instanceof JetStreamApiError && resource.notFound.includes(err.code)) return undefined;
    throw err;
  }
}

/** How provisioning at start goes on after a failed first attempt. */
export interface ProvisionRetry {
  /** Pause between attempts. */
  retryMs: number;
  /** Aborting ends the attempts (the app is stopping). */
  signal: AbortSignal;
}

/**
 * Provisions without making JetStream a precondition of starting: runs `ensure` once and resolves after it,
 * whatever its outcome; every failure is logged (`failure`: the message and its fields) and it is tried
 * again every `retryMs` in the background until it succeeds or `signal` aborts.
 */
export async function provisionWithRetry(
  nc: NatsConnection,
  retry: ProvisionRetry,
  ensure: (jsm: JetStreamManager) => Promise<unknown>,
  failure: { log: Logger; message: string; fields: Record<string, unknown> },
): Promise<void> {
  const succeeded = () =>
    jetstreamManager(nc)
      .then(ensure)
      .then(
        () => true,
        (err: unknown) => (failure.log.error({ err, ...failure.fields }, failure.message), false),
      );
  if (await succeeded()) return;
  void (async () => {
    while (!retry.signal.aborted) {
      await sleep(retry.retryMs, undefined, { signal: retry.signal, ref: false }).catch(() => undefined);
      if (retry.signal.aborted || (await succeeded())) return;
    }
  })();
}
