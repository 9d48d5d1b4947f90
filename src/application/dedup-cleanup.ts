/**
 * Forgets processed message ids older than the dedup retention, in bounded batches, from one instance at a time
 * (the cleanup lock of advisory-locks.ts: cleanups of several instances contending on the same rows deadlock). The
 * retention must outlast every redelivery, replay and re-publish of a message.
 */
import type { Logger } from 'pino';
import { deleteProcessedMessagesBefore, tryLockCleanup } from '../persistence/inbox.js';
import type { ServiceDeps } from './deps.js';

export interface Cleanup {
  /** One pass: deletes batches until fewer than a batch remain; returns how many rows went. */
  runOnce(): Promise<number>;
  stop(): void;
}

/**
 * Starts the periodic cleanup (every `intervalMs`, off the event loop's keep-alive); a failed pass is logged and the
 * next one retries. Each batch of at most `batchSize` rows is its own transaction, so a pass holds no lock for long.
 */
export function startDedupCleanup(deps: ServiceDeps, options: { retentionMs: number; intervalMs: number; batchSize: number }, log: Logger): Cleanup {
  async function runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await deps.db.transaction(async (tx) => {
        if (!(await tryLockCleanup(tx))) return 0; // another instance is cleaning
        return deleteProcessedMessagesBefore(tx, new Date(deps.now().getTime() - options.retentionMs), options.batchSize);
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
