/**
 * The outbox relay (Watermill's "forwarder"): publishes committed outbox rows to JetStream, nothing lost and
 * nothing duplicated on the stream.
 *
 * Contracts
 * - At least once from the table, exactly once on the stream: a row is marked published only after its PubAck
 *   (a `duplicate: true` ack counts); any error, timeout or refusal keeps the row (attempts + 1, last_error) for
 *   the next pass, after a capped exponential backoff. A row published but not marked (crash, lost database) is
 *   published again with the same Nats-Msg-Id and JetStream drops the copy: the stream's duplicate window must
 *   outlast the retry horizon (config.ts checks it).
 * - Order per distribution: each pass reads up to `batchSize` unpublished rows in id order (= commit order per
 *   distribution, see outbox-relay-store.ts) and publishes them as one chain per distribution: a row is sent only
 *   after the previous row of its distribution was acknowledged, and a failure ends that chain for the pass.
 *   Different distributions' chains run concurrently, up to `maxInFlight` PubAcks outstanding.
 * - One active relay across instances: the holder of a PostgreSQL advisory lock (relay-session.ts); the others
 *   retry every `lockRetryMs` and take over when the holder's connection ends.
 * - Wake-up: LISTEN on the commit-time NOTIFY of the outbox trigger (any instance's commit wakes the active
 *   relay), `notify()` for in-process callers, and a poll every `pollIntervalMs` as the fallback.
 * - Housekeeping (active relay only): rows published longer than `retentionMs` ago are deleted in bounded
 *   batches; backlog size and the age of the oldest unpublished row are logged every `statusIntervalMs`.
 */
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { RelayConfig } from '../config.js';
import type { Logger } from 'pino';
import {
  deletePublished,
  fetchUnpublished,
  markFailed,
  markPublished,
  measureBacklog,
  type UnpublishedRow,
} from '../persistence/outbox-relay-store.js';
import { openRelaySession, type RelaySession } from '../persistence/relay-session.js';
import { eventHeaders } from './event-headers.js';
import { withPrefix } from './subjects.js';
import { createWakeSignal } from './wake-signal.js';

/** The relay's settings: RELAY_* / OUTBOX_* (config.ts documents each), plus what it takes from the rest. */
export type OutboxRelayOptions = Omit<RelayConfig, 'enabled' | 'flushTimeoutMs'> & {
  /** Deployment prefix put in front of each row's subject (NATS_SUBJECT_PREFIX). */
  subjectPrefix: string;
  /** Publishes expect this stream (Nats-Expected-Stream): a foreign stream capturing the subject is a refusal. */
  streamName: string;
  statementTimeoutMs: number;
};

/** Test seams. `afterPublish` runs after a row's PubAck and before it is marked: throwing there simulates a crash. */
export interface RelayHooks {
  afterPublish?(row: UnpublishedRow, ack: PubAck): void | Promise<void>;
}

export interface OutboxRelayDeps {
  databaseUrl: string;
  js: JetStreamClient;
  log: Logger;
  hooks?: RelayHooks;
}

export interface RelayStatus {
  /** This instance holds the relay lock. */
  active: boolean;
  /** Unpublished rows (null when the database could not be asked). */
  unpublished: number | null;
  oldest_unpublished_age_ms: number | null;
  published_total: number;
  duplicates_total: number;
  failed_publishes_total: number;
  consecutive_failed_passes: number;
  last_error: string | null;
  last_published_at: string | null;
}

export interface OutboxRelay {
  /** Starts competing for the relay lock and, once held, relaying. Returns at once. */
  start(): void;
  /** Wakes the relay now (e.g. after a commit in this process); NOTIFY does this across instances. */
  notify(): void;
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

interface BatchOutcome {
  published: string[];
  failures: Array<{ id: string; error: string }>;
}

const CLEANUP_BATCH = 1000;
const CLEANUP_MAX_BATCHES = 20;

export function createOutboxRelay(deps: OutboxRelayDeps, options: OutboxRelayOptions): OutboxRelay {
  const { js, log } = deps;
  const signal = createWakeSignal();
  let session: RelaySession | undefined;
  let active = false;
  let stopping = false;
  let running: Promise<void> | undefined;
  let wakeStop: (() => void) | undefined;
  /** Passes started so far: a flush waits for a pass that started after it was called. */
  let passesStarted = 0;
  let lastHousekeeping = Date.now();
  const flushWaiters: Array<{ afterPass: number; resolve: (drained: boolean) => void }> = [];
  const stats = { published: 0, duplicates: 0, failedPublishes: 0, consecutiveFailedPasses: 0, lastError: null as string | null, lastPublishedAt: null as string | null };

  /** Sleeps `ms`, or less when stop() is called. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeStop = undefined;
        resolve();
      }
      wakeStop = done;
    });

  async function publishOne(row: UnpublishedRow): Promise<void> {
    const ack = await js.publish(withPrefix(options.subjectPrefix, row.subject), row.body, {
      headers: eventHeaders({ eventId: row.eventId, eventType: row.eventType, aggregateId: row.aggregateId, time: row.time }, options.ceSource),
      timeout: options.publishTimeoutMs,
      expect: { streamName: options.streamName },
    });
    if (ack.duplicate) stats.duplicates++;
    await deps.hooks?.afterPublish?.(row, ack);
  }

  /**
   * Publishes one batch as per-distribution chains: a row is sent only after the previous row of its
   * distribution was acknowledged; a failure ends that chain (its later rows wait for the next pass).
   */
  async function publishBatch(current: RelaySession, rows: readonly UnpublishedRow[]): Promise<BatchOutcome> {
    const chains = new Map<string, UnpublishedRow[]>();
    for (const row of rows) {
      const chain = chains.get(row.aggregateId);
      if (chain) chain.push(row);
      else chains.set(row.aggregateId, [row]);
    }
    const queue = [...chains.values()];
    let next = 0;
    const published: string[] = [];
    const failures: Array<{ id: string; error: string }> = [];
    const worker = async () => {
      for (let chain = queue[next++]; chain; chain = queue[next++]) {
        for (const row of chain) {
          if (current.lost) return;
          try {
            await publishOne(row);
            published.push(row.id);
          } catch (err) {
            failures.push({ id: row.id, error: describe(err) });
            break; // later rows of this distribution wait for the next pass: order per distribution
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.maxInFlight, queue.length) }, worker));
    stats.published += published.length;
    stats.failedPublishes += failures.length;
    if (published.length > 0) stats.lastPublishedAt = new Date().toISOString();
    if (failures.length > 0) stats.lastError = failures[0]!.error;
    return { published, failures };
  }

  /** `drained` = pass number `passIndex` found everything published; false = this relay stopped being active. */
  function settleFlushes(drained: boolean, passIndex = Infinity): void {
    for (let i = flushWaiters.length - 1; i >= 0; i--) {
      const waiter = flushWaiters[i]!;
      if (!drained || passIndex > waiter.afterPass) {
        flushWaiters.splice(i, 1);
        waiter.resolve(drained);
      }
    }
  }

  async function housekeeping(current: RelaySession): Promise<void> {
    if (Date.now() - lastHousekeeping < options.statusIntervalMs) return;
    lastHousekeeping = Date.now();
    let deleted = 0;
    for (let i = 0; i < CLEANUP_MAX_BATCHES; i++) {
      const n = await deletePublished(current.db, options.retentionMs, CLEANUP_BATCH);
      deleted += n;
      if (n < CLEANUP_BATCH) break;
    }
    const backlog = await measureBacklog(current.db);
    log.info(
      { outbox_unpublished: backlog.unpublished, outbox_oldest_age_ms: backlog.oldestAgeMs, outbox_deleted: deleted, published_total: stats.published },
      'outbox relay status',
    );
  }

  /**
   * Relays while this session holds the lock; throws when the session breaks.
   *
   * Pipelining (throughput): while a full batch is published, the next one is already read (rows after the
   * batch's last id), and a batch's rows are marked while the next batch is published. Both queries run on the
   * session's one connection, in order. A read after the cursor may miss a row with a smaller id that committed
   * late: such a row has no committed successor in its distribution (ids follow commit order per distribution),
   * and a pass from the start picks it up before the relay reports drained or goes to sleep. After a failure the
   * prefetched batch is discarded and the next pass starts from the first unpublished row.
   */
  async function lead(current: RelaySession): Promise<void> {
    let cursor: string | undefined;
    let prefetched: Promise<UnpublishedRow[]> | undefined;
    let marking: Promise<void> = Promise.resolve();
    const handled = <T>(promise: Promise<T>) => (promise.catch(() => undefined), promise);
    try {
      while (!stopping) {
        if (current.lost) throw new Error('the relay lost its database session (and with it the relay lock)');
        const passIndex = ++passesStarted;
        const fromStart = cursor === undefined;
        const rows = await (prefetched ?? fetchUnpublished(current.db, options.batchSize, cursor));
        prefetched = undefined;
        const full = rows.length >= options.batchSize;
        if (full) prefetched = handled(fetchUnpublished(current.db, options.batchSize, rows.at(-1)!.id));
        const outcome = await publishBatch(current, rows);
        await marking;
        marking = handled(markPublished(current.db, outcome.published));

        if (outcome.failures.length > 0) {
          await markFailed(current.db, outcome.failures);
          await marking;
          await prefetched?.catch(() => undefined);
          prefetched = undefined;
          cursor = undefined;
          stats.consecutiveFailedPasses++;
          const n = stats.consecutiveFailedPasses;
          if (n === 1 || n % 10 === 0) log.warn({ failed: outcome.failures.length, attempt: n, last_error: stats.lastError }, 'outbox relay: publishing failed; rows kept, retrying');
          await housekeeping(current);
          const backoff = Math.min(options.maxBackoffMs, 100 * 2 ** Math.min(n - 1, 20));
          await pause(backoff * (0.8 + Math.random() * 0.4));
          continue;
        }
        if (stats.consecutiveFailedPasses > 0) log.info({ after_failed_passes: stats.consecutiveFailedPasses }, 'outbox relay: publishing again');
        stats.consecutiveFailedPasses = 0;
        if (full) {
          cursor = rows.at(-1)!.id;
          continue;
        }
        await marking;
        cursor = undefined;
        if (!fromStart) continue; // one pass from the start before calling it drained
        settleFlushes(true, passIndex);
        await housekeeping(current);
        await signal.wait(options.pollIntervalMs);
      }
      await marking;
    } finally {
      await marking.catch(() => undefined);
      await prefetched?.catch(() => undefined);
    }
  }

  async function run(): Promise<void> {
    while (!stopping) {
      try {
        if (!session || session.lost) {
          await session?.close();
          session = undefined;
          session = await openRelaySession({ databaseUrl: deps.databaseUrl, statementTimeoutMs: options.statementTimeoutMs });
        }
        if (!(await session.tryLead())) {
          await pause(options.lockRetryMs);
          continue;
        }
        active = true;
        log.info({ stream: options.streamName }, 'outbox relay active (holds the relay lock)');
        await session.listen(() => signal.notify());
        await lead(session);
      } catch (err) {
        if (!stopping) log.warn({ err }, 'outbox relay: database session failed; reconnecting');
        await session?.close();
        session = undefined;
        if (!stopping) await pause(Math.min(options.lockRetryMs, 1000));
      } finally {
        if (active) log.info('outbox relay inactive (released the relay lock)');
        active = false;
        settleFlushes(false);
      }
    }
    await session?.close();
    session = undefined;
  }

  return {
    get active() {
      return active;
    },
    start() {
      running ??= run();
    },
    notify() {
      signal.notify();
    },
    flush(timeoutMs) {
      if (!active || stopping) return Promise.resolve(!active);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          const i = flushWaiters.indexOf(waiter);
          if (i >= 0) flushWaiters.splice(i, 1);
          resolve(false);
        }, timeoutMs);
        const waiter = {
          afterPass: passesStarted,
          resolve: (drained: boolean) => {
            clearTimeout(timer);
            resolve(drained);
          },
        };
        flushWaiters.push(waiter);
        signal.notify();
      });
    },
    async stop() {
      stopping = true;
      signal.notify();
      wakeStop?.();
      await running;
    },
    async status() {
      let backlog: { unpublished: number | null; oldestAgeMs: number | null } = { unpublished: null, oldestAgeMs: null };
      if (session && !session.lost) backlog = await measureBacklog(session.db).catch(() => backlog);
      return {
        active,
        unpublished: backlog.unpublished,
        oldest_unpublished_age_ms: backlog.oldestAgeMs,
        published_total: stats.published,
        duplicates_total: stats.duplicates,
        failed_publishes_total: stats.failedPublishes,
        consecutive_failed_passes: stats.consecutiveFailedPasses,
        last_error: stats.lastError,
        last_published_at: stats.lastPublishedAt,
      };
    },
  };
}

/** A row's last_error: the error's name and message; "no responders" is what a publish no stream captures gets. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const text = `${err.name}: ${err.message}`;
  return err.name === 'JetStreamNotEnabled' ? `${text} (no stream captures the subject, or JetStream is unavailable)` : text;
}
