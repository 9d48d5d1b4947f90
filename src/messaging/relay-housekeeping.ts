/**
 * The active relay's housekeeping: at most once every `statusIntervalMs`, rows published longer than
 * `retentionMs` ago are deleted in bounded batches, and the backlog (size, age of the oldest unpublished row) is
 * logged. Only the active relay runs it, on its own session, so instances never delete concurrently.
 */
import type { Logger } from 'pino';
import type { RelayConfig } from '../config.js';
import { deletePublished, measureBacklog, type Queryable } from '../persistence/outbox-relay-store.js';
import type { RelayCounters } from './relay-status.js';

/** Rows deleted per statement, and statements per run: a large backlog of old rows is removed over several runs. */
const CLEANUP_BATCH = 1000;
const CLEANUP_MAX_BATCHES = 20;

/** Runs the housekeeping on `db` when it is due (`statusIntervalMs` since the last run); otherwise returns at once. */
export type RelayHousekeeping = (db: Queryable) => Promise<void>;

export function createRelayHousekeeping(deps: { log: Logger; counters: RelayCounters }, options: Pick<RelayConfig, 'statusIntervalMs' | 'retentionMs'>): RelayHousekeeping {
  let lastRun = Date.now();
  return async (db) => {
    if (Date.now() - lastRun < options.statusIntervalMs) return;
    lastRun = Date.now();
    let deleted = 0;
    for (let i = 0; i < CLEANUP_MAX_BATCHES; i++) {
      const n = await deletePublished(db, options.retentionMs, CLEANUP_BATCH);
      deleted += n;
      if (n < CLEANUP_BATCH) break;
    }
    const backlog = await measureBacklog(db);
    deps.log.info(
      { outbox_unpublished: backlog.unpublished, outbox_oldest_age_ms: backlog.oldestAgeMs, outbox_deleted: deleted, published_total: deps.counters.published },
      'outbox relay status',
    );
  };
}
