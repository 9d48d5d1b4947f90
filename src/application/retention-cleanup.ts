/**
 * Deletes rows past their retention, in bounded batches, each table from one instance at a time (a transaction
 * advisory lock per table, tried and never waited for: cleanups of several instances contending on the same rows
 * deadlock). Each batch is its own transaction, so a pass holds no lock for long.
 */
import type { Logger } from 'pino';
import { DEAD_LETTER_CLEANUP_LOCK_KEY, IDEMPOTENCY_CLEANUP_LOCK_KEY, tryTransactionLock } from '../persistence/advisory-locks.js';
import type { Sql } from '../persistence/database.js';
import { deleteDeadLettersReplayedBefore } from '../persistence/dead-letters.js';
import { deleteIdempotencyRecordsBefore } from '../persistence/idempotency.js';
import type { ServiceDeps } from './deps.js';

/** One table's retention. */
export interface RetentionTask {
  /** What the rows are, for the log line. */
  rows: string;
  /** The advisory lock (advisory-locks.ts) that one instance holds while it cleans this table. */
  lockKey: number;
  retentionMs: number;
  /** Deletes up to `batchSize` rows older than `olderThan`; returns how many went. */
  deleteBefore(db: Sql, olderThan: Date, batchSize: number): Promise<number>;
}

export interface Cleanup {
  /** One pass over every task: deletes batches until fewer than a batch remain; returns how many rows went. */
  runOnce(): Promise<number>;
  stop(): void;
}

/** Replayed dead letters go `retentionMs` after their replay; open ones are kept until an operator replays them. */
export const deadLetterRetention = (retentionMs: number): RetentionTask => ({
  rows: 'replayed dead letters',
  lockKey: DEAD_LETTER_CLEANUP_LOCK_KEY,
  retentionMs,
  deleteBefore: deleteDeadLettersReplayedBefore,
});

/** Idempotency records go `retentionMs` after they were written: a retry later than that runs again. */
export const idempotencyRetention = (retentionMs: number): RetentionTask => ({
  rows: 'idempotency records',
  lockKey: IDEMPOTENCY_CLEANUP_LOCK_KEY,
  retentionMs,
  deleteBefore: deleteIdempotencyRecordsBefore,
});

/**
 * Starts the periodic cleanup of `tasks` (every `intervalMs`, off the event loop's keep-alive); a failed pass is
 * logged and the next one retries.
 */
export function startRetentionCleanup(deps: ServiceDeps, tasks: readonly RetentionTask[], options: { intervalMs: number; batchSize: number }, log: Logger): Cleanup {
  async function clean(task: RetentionTask): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await deps.db.transaction(async (tx) => {
        if (!(await tryTransactionLock(tx, task.lockKey))) return 0; // another instance is cleaning
        return task.deleteBefore(tx, new Date(deps.now().getTime() - task.retentionMs), options.batchSize);
      });
      total += deleted;
      if (deleted < options.batchSize) return total;
    }
  }
  async function runOnce(): Promise<number> {
    let total = 0;
    for (const task of tasks) {
      const deleted = await clean(task).catch((err: unknown) => {
        log.warn({ err, rows: task.rows }, 'retention cleanup failed; next pass retries');
        return 0;
      });
      if (deleted > 0) log.info({ deleted, rows: task.rows }, 'rows past their retention deleted');
      total += deleted;
    }
    return total;
  }
  const timer = setInterval(() => void runOnce(), options.intervalMs);
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}
