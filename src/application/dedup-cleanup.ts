/**
 * Forgets processed message ids older than the dedup retention, in bounded batches, from one instance at a time
 * (a transaction-scoped advisory lock: cleanups of several instances contending on the same rows deadlocked in
 * NServiceBus and CAP). The retention must outlast every redelivery, replay and re-publish of a message.
 */
import type { Logger } from 'pino';
import { deleteProcessedMessagesBefore } from '../persistence/inbox.js';
import type { ServiceDeps } from './deps.js';

const CLEANUP_LOCK_KEY = 7_262_003;

export interface Cleanup {
  /** One pass: deletes batches until fewer than a batch remain; returns how many rows went. */
  runOnce(): Promise<number>;
  stop(): void;
}

export function startDedupCleanup(deps: ServiceDeps, options: { retentionMs: number; intervalMs: number; batchSize: number }, log: Logger): Cleanup {
  async function runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await deps.orm.em.fork().transactional(async (em) => {
        const [lock] = await em.execute<{ locked: boolean }[]>('select pg_try_advisory_xact_lock(?) as locked', [CLEANUP_LOCK_KEY]);
        if (!lock?.locked) return 0; // another instance is cleaning
        return deleteProcessedMessagesBefore(em, new Date(deps.now().getTime() - options.retentionMs), options.batchSize);
      });
      total += deleted;
      if (deleted < options.batchSize) return total;
    }
  }
  const timer = setInterval(() => {
    runOnce().then(
      (n) => n > 0 && log.info({ deleted: n }, 'processed message ids past the dedup retention deleted'),
      (err: unknown) => log.warn({ err }, 'dedup cleanup failed; next pass retries'),
    );
  }, options.intervalMs);
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}
