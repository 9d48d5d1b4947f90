/**
 * A COMMIT whose connection is lost leaves the outcome unknown: the transaction may have committed. Such a command
 * answers 503 COMMIT_OUTCOME_UNKNOWN ("retry with the same idempotency_key, or read back"), never the plain
 * "safe to retry" UNAVAILABLE, which would duplicate a create retried without a key. A connection lost during the
 * work itself (before COMMIT) is still UNAVAILABLE: nothing was committed.
 *
 * The connection is lost deterministically: a constraint trigger on the distribution row of one course ends its
 * own backend (pg_terminate_backend(pg_backend_pid())). Deferred, it runs inside COMMIT; immediate, inside the
 * INSERT.
 */
import t from 'tap';
import { startTestApp } from '../helpers/app.js';

t.test('when the connection is lost during COMMIT, then a create answers 503 COMMIT_OUTCOME_UNKNOWN; during the work, 503 UNAVAILABLE', async (t) => {
  const { call, db } = await startTestApp(t);
  await db.query(`
    create function end_own_backend() returns trigger language plpgsql as $$
    begin
      perform pg_terminate_backend(pg_backend_pid());
      return null;
    end $$`);
  await db.query(`
    create constraint trigger lose_connection_at_commit after insert on distribution
    deferrable initially deferred for each row when (new.course_id = 'course_commit_lost') execute function end_own_backend()`);
  await db.query(`
    create constraint trigger lose_connection_in_work after insert on distribution
    not deferrable for each row when (new.course_id = 'course_work_lost') execute function end_own_backend()`);

  const atCommit = await call('acme', 'create', { course_id: 'course_commit_lost', language: 'de', title: 'Verloren' });
  t.equal(atCommit.status, 503, 'at commit: 503');
  t.equal(atCommit.body.error?.code, 'COMMIT_OUTCOME_UNKNOWN', 'at commit: the outcome is unknown');
  t.match(atCommit.body.error?.message, /idempotency_key/, 'the message says how to retry');

  const inWork = await call('acme', 'create', { course_id: 'course_work_lost', language: 'de', title: 'Verloren' });
  t.equal(inWork.status, 503, 'in the work: 503');
  t.equal(inWork.body.error?.code, 'UNAVAILABLE', 'in the work: nothing was committed, safe to retry');

  const after = await call('acme', 'create', { course_id: 'course_fine', language: 'de', title: 'Gut' });
  t.equal(after.status, 200, 'the pool recovers: the next create is served');
});
