/**
 * What the observations of `ops.health` mean (pure; the probing is in messaging/instance-health.ts).
 * A check is `down` when this instance cannot do its main job (answer commands: NATS, the database, a schema as
 * new as the code), `degraded` when it serves but something around it is wrong (no consumption, no relay anywhere,
 * counters not flushing, a newer schema), `disabled` when it is turned off here by configuration.
 * The instance is `down` if any check is, else `degraded` if any check is, else `ok`; `reasons` names every
 * check that is not ok or disabled, as `<check>: <why>`.
 */
import type { LockHolder, MigrationState } from '../persistence/ops-queries.js';
import type { CounterStatus } from './counters.js';
import type { ProbeResult } from './timed-probe.js';

export type CheckState = 'ok' | 'degraded' | 'down' | 'disabled';

/** One check as reported: its state, how long its probe took, why it is not ok, and what it saw. */
export interface HealthCheck {
  state: CheckState;
  latency_ms: number;
  reason?: string;
  [detail: string]: unknown;
}

export type HealthStatus = 'ok' | 'degraded' | 'down';

export function judgeHealth(checks: Record<string, HealthCheck>): { status: HealthStatus; reasons: string[] } {
  const entries = Object.entries(checks);
  const reasons = entries.filter(([, c]) => c.state === 'down' || c.state === 'degraded').map(([name, c]) => `${name}: ${c.reason ?? c.state}`);
  const status: HealthStatus = entries.some(([, c]) => c.state === 'down') ? 'down' : entries.some(([, c]) => c.state === 'degraded') ? 'degraded' : 'ok';
  return { status, reasons };
}

function failed(state: CheckState, probe: { latencyMs: number; error: string }, what: string): HealthCheck {
  return { state, latency_ms: probe.latencyMs, reason: `${what}: ${probe.error}` };
}

/** The NATS connection: its server and a round trip (PING/PONG). */
export function natsCheck(rtt: ProbeResult<number>, server: string): HealthCheck {
  if (!rtt.ok) return { ...failed('down', rtt, 'no round trip to the NATS server'), server };
  return { state: 'ok', latency_ms: rtt.latencyMs, server, rtt_ms: rtt.value };
}

/** The database: a `select 1` round trip on the pool. */
export function databaseCheck(roundTrip: ProbeResult<void>): HealthCheck {
  if (!roundTrip.ok) return failed('down', roundTrip, 'the database does not answer');
  return { state: 'ok', latency_ms: roundTrip.latencyMs };
}

/** Pending migrations mean the code expects a schema the database lacks; unknown ones, that a newer release runs. */
export function migrationsCheck(state: ProbeResult<MigrationState>): HealthCheck {
  if (!state.ok) return failed('down', state, 'cannot read the migrations');
  const { pending, unknown } = state.value;
  const base = { latency_ms: state.latencyMs, pending, unknown };
  if (pending.length > 0) return { ...base, state: 'down', reason: `${pending.length} migration(s) not run: ${pending.join(', ')}` };
  if (unknown.length > 0) return { ...base, state: 'degraded', reason: `the database has migrations this release does not know: ${unknown.join(', ')}` };
  return { ...base, state: 'ok' };
}

export type ConsumerObservation = { enabled: false } | { enabled: true; durable: string; paused: boolean; pulling: boolean; info: ProbeResult<unknown> };

/** The durable consumer exists on the server and this instance pulls from it; paused (database down) = degraded. */
export function consumerCheck(seen: ConsumerObservation): HealthCheck {
  if (!seen.enabled) return { state: 'disabled', latency_ms: 0, reason: 'CONSUMER_ENABLED=false on this instance' };
  const base = { latency_ms: seen.info.latencyMs, durable: seen.durable, paused: seen.paused, pulling: seen.pulling };
  if (!seen.info.ok) return { ...base, state: 'degraded', reason: `the durable consumer cannot be read: ${seen.info.error}` };
  if (seen.paused) return { ...base, state: 'degraded', reason: 'consumption paused: the database is unavailable' };
  if (!seen.pulling) return { ...base, state: 'degraded', reason: 'this instance is not pulling from the durable consumer' };
  return { ...base, state: 'ok' };
}

/** This instance's relay role. */
export type RelayRole = 'active' | 'standby' | 'disabled';

/** Some session (this instance's or another's) holds the relay lock; none = nobody publishes the outbox. */
export function relayCheck(here: RelayRole, holder: ProbeResult<LockHolder | null>): HealthCheck {
  if (!holder.ok) return { ...failed('degraded', holder, 'cannot ask who holds the relay lock'), here };
  const base = { latency_ms: holder.latencyMs, here, holder_pid: holder.value?.pid ?? null, holder_application: holder.value?.applicationName ?? null };
  if (!holder.value)
    return { ...base, state: 'degraded', reason: `no instance holds the relay lock: the outbox is not published${here === 'disabled' ? ' (RELAY_ENABLED=false here)' : ''}` };
  return { ...base, state: 'ok' };
}

/** The view and click counters: what waits, and whether the last flush committed. */
export function countersCheck(counters: Record<string, CounterStatus>): HealthCheck {
  const failing = Object.entries(counters).filter(([, c]) => c.lastFlushOk === false);
  const detail = Object.fromEntries(
    Object.entries(counters).map(([kind, c]) => [
      kind,
      { queued: c.queued, flushing: c.flushing, last_flush_at: c.lastFlushAt, last_flush_ok: c.lastFlushOk, last_error: c.lastError },
    ]),
  );
  if (failing.length > 0) return { state: 'degraded', latency_ms: 0, reason: failing.map(([kind, c]) => `last ${kind} flush failed: ${c.lastError}`).join('; '), ...detail };
  return { state: 'ok', latency_ms: 0, ...detail };
}
