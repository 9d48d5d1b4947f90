/**
 * Retention of dead letters and idempotency records, with backdated rows, through the app's own cleanup timer:
 * a replayed letter goes DEAD_LETTER_RETENTION_HOURS after its replay, an open one never; an idempotency record goes
 * IDEMPOTENCY_RETENTION_HOURS after it was written; one instance cleans a table at a time (advisory lock).
 */
import t from 'tap';
import pg from 'pg';
import { startTestApp } from '../helpers/app.js';
import { DEAD_LETTER_CLEANUP_LOCK_KEY, IDEMPOTENCY_CLEANUP_LOCK_KEY } from '../../src/persistence/advisory-locks.js';

const { db } = await startTestApp(t, { env: { DEDUP_CLEANUP_INTERVAL_MS: '100', DEDUP_CLEANUP_BATCH: '2' } });
const DAY = 24;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Dead letters failed 60 days ago, replayed `replayedHoursAgo` ago (null: open); returns their message ids. */
async function storeLetters(tag: string, replayedHoursAgo: (number | null)[]): Promise<void> {
  await db.query(
    `insert into dead_letter (consumer, message_id, subject, headers, data, reason, delivery_count, failed_at, replayed_at, replay_outcome)
     select 'distribution_consumer', $1 || ':' || ord, 'course.generation.completed', '{}'::jsonb, '\\x00'::bytea, 'bad', 1,
            now() - interval '60 days', case when h is null then null else now() - make_interval(hours => h) end,
            case when h is null then null else 'applied' end
       from unnest($2::int[]) with ordinality as u(h, ord)`,
    [tag, replayedHoursAgo],
  );
}

async function storeRecords(tag: string, hoursAgo: number[]): Promise<void> {
  await db.query(
    `insert into idempotency_record (tenant_id, operation, key, request_hash, response, created_at)
     select 'retention', 'create', $1 || ':' || ord, 'h', '{}'::jsonb, now() - make_interval(hours => h)
       from unnest($2::int[]) with ordinality as u(h, ord)`,
    [tag, hoursAgo],
  );
}

const letters = async (tag: string) =>
  (await db.query<{ message_id: string }>(`select message_id from dead_letter where message_id like $1 || ':%' order by id`, [tag])).rows.map((r) => r.message_id);
const records = async (tag: string) => (await db.query<{ key: string }>(`select key from idempotency_record where key like $1 || ':%' order by key`, [tag])).rows.map((r) => r.key);

/** Polls until `read` returns `expected` or 5 s passed; returns the last value. */
async function eventually<T>(read: () => Promise<T>, expected: T): Promise<T> {
  const deadline = Date.now() + 5000;
  let value = await read();
  while (JSON.stringify(value) !== JSON.stringify(expected) && Date.now() < deadline) {
    await sleep(50);
    value = await read();
  }
  return value;
}

t.test('when dead letters and idempotency records are past their retention, then the cleanup deletes them in batches and keeps the rest', async (t) => {
  // Replayed 31, 31, 31, 31 and 29 days ago, and two open ones (failed 60 days ago).
  await storeLetters('dl1', [31 * DAY, 31 * DAY, 31 * DAY, 31 * DAY, 29 * DAY, null, null]);
  await storeRecords('ik1', [8 * DAY, 8 * DAY, 8 * DAY, 6 * DAY]);
  t.strictSame(await eventually(() => letters('dl1'), ['dl1:5', 'dl1:6', 'dl1:7']), ['dl1:5', 'dl1:6', 'dl1:7'], 'replayed > 30 days ago deleted; recent and open kept');
  t.strictSame(await eventually(() => records('ik1'), ['ik1:4']), ['ik1:4'], 'records older than 7 days deleted');
  await sleep(300);
  t.strictSame(await letters('dl1'), ['dl1:5', 'dl1:6', 'dl1:7'], 'and the rest stays');
});

t.test('when another instance holds a cleanup lock, then that table is left alone until it is released', async (t) => {
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  t.teardown(() => other.end());
  await other.query('begin');
  await other.query('select pg_advisory_xact_lock($1)', [DEAD_LETTER_CLEANUP_LOCK_KEY]);
  await storeLetters('dl2', [40 * DAY]);
  await storeRecords('ik2', [10 * DAY]);
  t.strictSame(await eventually(() => records('ik2'), []), [], 'the idempotency cleanup has its own lock and runs');
  await sleep(400);
  t.strictSame(await letters('dl2'), ['dl2:1'], 'the dead letter stays while the lock is held');
  await other.query('select pg_advisory_xact_lock($1)', [IDEMPOTENCY_CLEANUP_LOCK_KEY]);
  await storeRecords('ik3', [10 * DAY]);
  await sleep(400);
  t.strictSame(await records('ik3'), ['ik3:1'], 'and the idempotency record while its lock is held');
  await other.query('commit');
  t.strictSame(await eventually(() => letters('dl2'), []), [], 'deleted after the release');
  t.strictSame(await eventually(() => records('ik3'), []), []);
});
