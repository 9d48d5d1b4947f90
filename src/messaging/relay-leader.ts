/**
 * The relay's leader loop: which instance relays, and when it runs a pass.
 *
 * Contracts
 * - One active relay across instances: the holder of a PostgreSQL advisory lock (relay-session.ts); the others
 *   retry every `lockRetryMs` and take over when the holder's connection ends. A session that breaks ends the
 *   leadership at once; a new one is opened after a short pause.
 * - A holder that stops (frozen, hung) loses the lock: it heartbeats every `lockRetryMs`; a standby that finds the
 *   holder's backend idle for more than `lockStaleMs` ends it (logged at warn) and takes the lock at its next try.
 * - Wake-up: LISTEN on the commit-time NOTIFY of the outbox trigger (any instance's commit wakes the active
 *   relay), `wake()` for in-process callers, and a poll every `pollIntervalMs` as the fallback.
 * - After a failed pass, the next one waits a capped exponential backoff (100 ms doubling up to `maxBackoffMs`,
 *   with jitter) and starts from the first unpublished row.
 * - Rows parked by a pass are logged (warn) one by one.
 * - Housekeeping runs on the active relay only: when it has drained the outbox, and after a failed pass.
 * - Logged state changes: active (info), standby (info, once per spell), lost the lock (warn, with the cause),
 *   released it at stop (info).
 */
import type { Logger } from 'pino';
import type { RelayConfig } from '../config.js';
import { openRelaySession, type RelaySession } from '../persistence/relay-session.js';
import type { DrainWaiters } from './relay-drain.js';
import type { RelayHousekeeping } from './relay-housekeeping.js';
import type { RelayPasses } from './relay-pass.js';
import type { RelayCounters } from './relay-status.js';
import { createWakeSignal } from './wake-signal.js';

export interface RelayLeaderDeps {
  databaseUrl: string;
  log: Logger;
  counters: RelayCounters;
  drain: DrainWaiters;
  housekeeping: RelayHousekeeping;
  /** The passes of a session that has just taken the lock. */
  openPasses(session: RelaySession): RelayPasses;
}

export type RelayLeaderOptions = Pick<RelayConfig, 'lockRetryMs' | 'lockStaleMs' | 'pollIntervalMs' | 'maxBackoffMs'> & {
  statementTimeoutMs: number;
  /** Only logged: the stream the active relay publishes to. */
  streamName: string;
};

export interface RelayLeader {
  /** This instance holds the relay lock. */
  readonly active: boolean;
  /** `stop()` was called. */
  readonly stopping: boolean;
  /** The live database session (active or standby), if there is one. */
  readonly session: RelaySession | undefined;
  /** Starts competing for the lock. Returns at once; a second call does nothing. */
  start(): void;
  /** Makes the active relay run a pass now instead of at the next poll. */
  wake(): void;
  /** Finishes the current pass, releases the lock, closes the session. Safe to call twice. */
  stop(): Promise<void>;
}

export function createRelayLeader(deps: RelayLeaderDeps, options: RelayLeaderOptions): RelayLeader {
  const { log, counters, drain } = deps;
  const signal = createWakeSignal();
  let session: RelaySession | undefined;
  let active = false;
  /** The standby line was logged: it is logged once per spell as standby, not at every retry. */
  let standby = false;
  let stopping = false;
  let running: Promise<void> | undefined;
  let endPause: (() => void) | undefined;

  /** Sleeps `ms`, or less when stop() is called. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        endPause = undefined;
        resolve();
      }
      endPause = done;
    });

  /** Ends a holder idle past the deadline; true when it did (try the lock again at once). Logs a refusal once. */
  let deniedLogged = false;
  async function endStaleHolder(current: RelaySession): Promise<boolean> {
    const ended = await current.endStaleHolder();
    if (ended && 'pid' in ended) {
      log.warn({ holder_pid: ended.pid, stale_ms: options.lockStaleMs }, 'outbox relay: ended the relay lock holder, idle past OUTBOX_LOCK_STALE_MS; taking over');
      return true;
    }
    if (ended && !deniedLogged) {
      deniedLogged = true;
      log.warn({ err: ended.denied }, 'outbox relay: cannot end a stale relay lock holder (needs the same database role, or pg_signal_backend)');
    }
    return false;
  }

  /** Runs passes while `current` holds the lock; throws when the session breaks. */
  async function lead(current: RelaySession): Promise<void> {
    const passes = deps.openPasses(current);
    // The heartbeat's failure is the session's: `lost` is set by the connection's own events.
    const heartbeat = setInterval(() => void current.heartbeat().catch(() => undefined), options.lockRetryMs);
    try {
      while (!stopping) {
        if (current.lost) throw new Error('the relay lost its database session (and with it the relay lock)');
        const passIndex = drain.passStarted();
        const outcome = await passes.run();
        if (outcome.kind === 'failed') {
          counters.parked += outcome.parked.length;
          for (const row of outcome.parked) {
            log.warn(
              { outbox_id: row.id, event_id: row.eventId, subject: row.subject, attempts: row.attempts, last_error: counters.lastError },
              'outbox relay: row parked (the stream refused it); its distribution waits for ops.outbox_retry or ops.outbox_discard',
            );
          }
          const n = ++counters.consecutiveFailedPasses;
          if (n === 1 || n % 10 === 0) log.warn({ failed: outcome.failed, attempt: n, last_error: counters.lastError }, 'outbox relay: publishing failed; rows kept, retrying');
          await deps.housekeeping(current.db);
          const backoff = Math.min(options.maxBackoffMs, 100 * 2 ** Math.min(n - 1, 20));
          await pause(backoff * (0.8 + Math.random() * 0.4));
          continue;
        }
        if (outcome.kind === 'more' && outcome.failing) continue; // the sweep goes on past refused rows; it ends failed
        if (counters.consecutiveFailedPasses > 0) log.info({ after_failed_passes: counters.consecutiveFailedPasses }, 'outbox relay: publishing again');
        counters.consecutiveFailedPasses = 0;
        if (outcome.kind === 'more') continue;
        drain.passDrained(passIndex);
        await deps.housekeeping(current.db);
        await signal.wait(options.pollIntervalMs);
      }
    } finally {
      clearInterval(heartbeat);
      await passes.settle();
    }
  }

  /** Competes for the lock until stopped; leads while it holds it; reopens a broken session. */
  async function run(): Promise<void> {
    while (!stopping) {
      try {
        if (!session || session.lost) {
          await session?.close();
          session = undefined;
          session = await openRelaySession({
            databaseUrl: deps.databaseUrl,
            statementTimeoutMs: options.statementTimeoutMs,
            lockRetryMs: options.lockRetryMs,
            staleMs: options.lockStaleMs,
          });
        }
        if (!(await session.tryLead())) {
          if (await endStaleHolder(session)) continue;
          if (!standby) log.info({ retry_ms: options.lockRetryMs }, 'outbox relay standby (another instance holds the relay lock)');
          standby = true;
          await pause(options.lockRetryMs);
          continue;
        }
        active = true;
        standby = false;
        log.info({ stream: options.streamName }, 'outbox relay active (holds the relay lock)');
        await session.listen(() => signal.notify());
        await lead(session);
      } catch (err) {
        if (!stopping) {
          const lost = active ? 'outbox relay lost the relay lock: its database session failed; reconnecting' : 'outbox relay: database session failed; reconnecting';
          log.warn({ err }, lost);
        }
        standby = false;
        await session?.close();
        session = undefined;
        if (!stopping) await pause(Math.min(options.lockRetryMs, 1000));
      } finally {
        if (active && stopping) log.info('outbox relay inactive (released the relay lock)');
        active = false;
        drain.relayInactive();
      }
    }
    await session?.close();
    session = undefined;
  }

  return {
    get active() {
      return active;
    },
    get stopping() {
      return stopping;
    },
    get session() {
      return session && !session.lost ? session : undefined;
    },
    start() {
      running ??= run();
    },
    wake() {
      signal.notify();
    },
    async stop() {
      stopping = true;
      signal.notify();
      endPause?.();
      await running;
    },
  };
}
