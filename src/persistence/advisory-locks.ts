/**
 * Every PostgreSQL advisory lock the service takes, with the reason it exists. The numbers are fixed for good:
 * instances of different releases share one database during a rolling deployment, and they exclude each other only
 * while they agree on them.
 *
 * PostgreSQL has one space of 64-bit keys for `pg_advisory_lock(bigint)`. The integer keys below live in it, and so
 * do the keys hashed from text (textKeyLock): a hash could in theory equal one of the integers, with a chance of
 * about 2^-64 per key, which is accepted.
 */
import type { Sql } from './database.js';

/**
 * Session lock held while migrations run, on a dedicated connection: instances that start together migrate one after
 * the other (MikroORM takes no lock of its own).
 */
export const MIGRATION_LOCK_KEY = 7_262_001;

/**
 * Session lock of the one active outbox relay, on its dedicated connection. PostgreSQL drops it with the connection,
 * so a standby takes over when the holder dies.
 */
export const RELAY_LOCK_KEY = 7_262_002;

/**
 * Transaction lock of the pass that deletes processed message ids past the dedup retention, tried (never waited
 * for): one instance cleans at a time, because cleanups of several instances contending on the same rows deadlock.
 */
export const CLEANUP_LOCK_KEY = 7_262_003;

/**
 * Transaction locks of the passes that delete replayed dead letters and idempotency records past their retention
 * (retention-cleanup.ts), tried like CLEANUP_LOCK_KEY: one instance cleans each table at a time.
 */
export const DEAD_LETTER_CLEANUP_LOCK_KEY = 7_262_004;
export const IDEMPOTENCY_CLEANUP_LOCK_KEY = 7_262_005;

/**
 * Takes the transaction lock `key` for the rest of the transaction `db` if no other session holds it; false when
 * one does. Never waits.
 */
export async function tryTransactionLock(db: Sql, key: number): Promise<boolean> {
  const [lock] = await db.execute<{ locked: boolean }>('select pg_try_advisory_xact_lock(?) as locked', [key]);
  return lock?.locked === true;
}

/**
 * Seed of `hashtextextended` for locks named by text (see textKeyLock). It happens to equal RELAY_LOCK_KEY; that is
 * harmless, because it is a hash seed and not a key, and it must stay as it is for the hashes to stay as they are.
 */
const TEXT_KEY_HASH_SEED = 7_262_002;

/**
 * SQL that takes a transaction-scoped advisory lock named by the text parameter `?` and waits for it: whatever else
 * holds that name, in any instance, finishes its transaction first.
 */
export const TEXT_KEY_LOCK_SQL = textKeyLockOf('?');

/** The same lock named by the SQL text expression `name` (e.g. a column of a set of names). */
export function textKeyLockOf(name: string): string {
  return `pg_advisory_xact_lock(hashtextextended(${name}, ${TEXT_KEY_HASH_SEED}))`;
}

/**
 * The text lock that serialises everything touching one course's distributions from consumed events, across
 * instances, until the transaction ends: a staging deployment and the creation of the course's distribution cannot
 * miss each other. Taken by claimMessage (inbox.ts) in the claiming statement, and by the commands that create a
 * distribution (course-staging.ts, through the SQL function course_staging_after_lock, which names the lock the same
 * way with the same seed: keep them equal), so a manual create or a variant and a deployment cannot miss each other either.
 */
export function courseLockKey(courseId: string): string {
  return `course:${courseId}`;
}
