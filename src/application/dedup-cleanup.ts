/**
 * Forgets processed message ids older than the dedup retention, in bounded batches, from one instance at a time
 * (the cleanup lock of advisory-locks.ts), through retention-cleanup.ts. The retention must outlast every
 * redelivery, replay and re-publish of a message.
 */
import type { Logger } from 'pino';
import { CLEANUP_LOCK_KEY } from '../persistence/advisory-locks.js';
import { deleteProcessedMessagesBefore } from '../persistence/inbox.js';
import type { ServiceDeps } from './deps.js';
import { startRetentionCleanup, type Cleanup } from './retention-cleanup.js';

export type { Cleanup } from './retention-cleanup.js';

/** Starts the periodic cleanup of processed message ids (every `intervalMs`, batches of `batchSize`). */
export function startDedupCleanup(deps: ServiceDeps, options: { retentionMs: number; intervalMs: number; batchSize: number }, log: Logger): Cleanup {
  return startRetentionCleanup(
    deps,
    [{ rows: 'processed message ids past the dedup retention', lockKey: CLEANUP_LOCK_KEY, retentionMs: options.retentionMs, deleteBefore: deleteProcessedMessagesBefore }],
    options,
    log,
  );
}
