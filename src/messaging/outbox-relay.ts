/**
 * The outbox relay (Watermill's "forwarder"): publishes committed outbox rows to JetStream, nothing lost and
 * nothing duplicated on the stream. This file composes its parts, each of which states its own contract:
 * - relay-pass.ts: one pass (read a batch, publish one chain per distribution, mark published or failed):
 *   at least once from the table, exactly once on the stream, order per distribution;
 * - relay-leader.ts: one active relay across instances (the advisory lock), wake-ups, backoff after a failure;
 * - relay-housekeeping.ts: deleting old published rows, logging the backlog;
 * - relay-drain.ts: what `flush()` waits for;
 * - relay-status.ts: the counters and the reported status.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { Config, RelayConfig } from '../config.js';
import { createDrainWaiters } from './relay-drain.js';
import { createRelayHousekeeping } from './relay-housekeeping.js';
import { createRelayLeader } from './relay-leader.js';
import { createRelayPasses, type RelayHooks } from './relay-pass.js';
import { createRelayCounters, readRelayStatus, type RelayStatus } from './relay-status.js';

export type { RelayHooks } from './relay-pass.js';
export type { RelayStatus } from './relay-status.js';

/** The relay's settings: RELAY_* / OUTBOX_* (config.ts documents each), plus what it takes from the rest. */
export type OutboxRelayOptions = Omit<RelayConfig, 'enabled' | 'flushTimeoutMs'> & {
  /** Deployment prefix put in front of each row's subject (NATS_SUBJECT_PREFIX). */
  subjectPrefix: string;
  /** Publishes expect this stream (Nats-Expected-Stream): a foreign stream capturing the subject is a refusal. */
  streamName: string;
  /** The stream's duplicate window: rows older than half of it are looked up on the stream before a republish. */
  duplicateWindowMs: number;
  /** statement_timeout of the relay's own database session. */
  statementTimeoutMs: number;
};

/** The relay's options as the service's configuration gives them. */
export function relayOptionsOf(config: Config): OutboxRelayOptions {
  return {
    ...config.relay,
    subjectPrefix: config.nats.subjectPrefix,
    streamName: config.stream.name,
    duplicateWindowMs: config.stream.duplicateWindowMs,
    statementTimeoutMs: config.db.statementTimeoutMs,
  };
}

export interface OutboxRelayDeps {
  /** The relay opens its own connection: it holds the relay lock and LISTENs for commits. */
  databaseUrl: string;
  js: JetStreamClient;
  log: Logger;
  hooks?: RelayHooks;
}

export interface OutboxRelay {
  /** Starts competing for the relay lock and, once held, relaying. Returns at once. */
  start(): void;
  /**
   * When active: resolves true once a pass that started after this call found nothing left (everything committed
   * before the call is published), or false at the timeout. A standby resolves true at once: the active one publishes.
   */
  flush(timeoutMs: number): Promise<boolean>;
  /** Finishes the current pass, releases the lock, closes the session. Safe to call twice. */
  stop(): Promise<void>;
  status(): Promise<RelayStatus>;
  readonly active: boolean;
}

/** The relay with its dependencies and settings; nothing runs before `start()`. */
export function createOutboxRelay(deps: OutboxRelayDeps, options: OutboxRelayOptions): OutboxRelay {
  const counters = createRelayCounters();
  const drain = createDrainWaiters();
  const leader = createRelayLeader(
    {
      databaseUrl: deps.databaseUrl,
      log: deps.log,
      counters,
      drain,
      housekeeping: createRelayHousekeeping({ log: deps.log, counters }, options),
      openPasses: (session) => createRelayPasses(session, { js: deps.js, counters, hooks: deps.hooks }, options),
    },
    options,
  );

  return {
    get active() {
      return leader.active;
    },
    start() {
      leader.start();
    },
    flush(timeoutMs) {
      if (!leader.active || leader.stopping) return Promise.resolve(!leader.active);
      const drained = drain.wait(timeoutMs);
      leader.wake();
      return drained;
    },
    stop() {
      return leader.stop();
    },
    status() {
      return readRelayStatus(counters, leader.active, leader.session?.db);
    },
  };
}
