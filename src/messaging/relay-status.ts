/**
 * What the relay counts while it runs, and the status it reports (`OutboxRelay.status()`).
 * Counters are per process and start at zero; the backlog is asked from the database at each `readRelayStatus`.
 */
import { measureBacklog, type Backlog, type Queryable } from '../persistence/outbox-relay-store.js';

/** The relay's status as reported; counters are totals since this process started. */
export interface RelayStatus {
  /** This instance holds the relay lock. */
  active: boolean;
  /** Unpublished rows (null when the database could not be asked). */
  unpublished: number | null;
  oldest_unpublished_age_ms: number | null;
  published_total: number;
  duplicates_total: number;
  failed_publishes_total: number;
  /** Rows this relay parked since it started (ops.status counts the rows parked now, from the database). */
  parked_total: number;
  consecutive_failed_passes: number;
  last_error: string | null;
  last_published_at: string | null;
}

/** The relay's running counters, updated in place by its passes and its leader loop. */
export interface RelayCounters {
  /** Rows marked published after their PubAck (duplicate acks included). */
  published: number;
  /** PubAcks that said `duplicate: true`: the stream already had the event. */
  duplicates: number;
  /** Publishes that failed, timed out or were refused (each keeps its row). */
  failedPublishes: number;
  /** Rows parked after OUTBOX_MAX_ATTEMPTS refusals. */
  parked: number;
  /** Passes in a row with at least one failed publish; 0 after a pass without one. */
  consecutiveFailedPasses: number;
  lastError: string | null;
  /** ISO time of the last pass that published anything. */
  lastPublishedAt: string | null;
}

/** Counters at zero. */
export function createRelayCounters(): RelayCounters {
  return { published: 0, duplicates: 0, failedPublishes: 0, parked: 0, consecutiveFailedPasses: 0, lastError: null, lastPublishedAt: null };
}

/**
 * The status now. `db` is the relay's session connection when it has a live one; without it, or when the query
 * fails, the backlog fields are null (the status itself never fails).
 */
export async function readRelayStatus(counters: RelayCounters, active: boolean, db: Queryable | undefined): Promise<RelayStatus> {
  const unknown: { [K in keyof Backlog]: Backlog[K] | null } = { unpublished: null, oldestAgeMs: null };
  const backlog = db ? await measureBacklog(db).catch(() => unknown) : unknown;
  return {
    active,
    unpublished: backlog.unpublished,
    oldest_unpublished_age_ms: backlog.oldestAgeMs,
    published_total: counters.published,
    duplicates_total: counters.duplicates,
    failed_publishes_total: counters.failedPublishes,
    parked_total: counters.parked,
    consecutive_failed_passes: counters.consecutiveFailedPasses,
    last_error: counters.lastError,
    last_published_at: counters.lastPublishedAt,
  };
}
