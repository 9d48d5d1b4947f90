/**
 * The batched consumer's unit of work (src/application/upstream-batch.ts) over the real PostgreSQL: deliveries built
 * as CourseFactory would publish them, handed to the batch handler directly, so each test knows exactly which
 * messages share a batch. What one transaction means is read from PostgreSQL itself: rows inserted by the same
 * transaction carry the same `xmin`.
 */
import t from 'tap';
import { createUpstreamBatchHandler, type BatchItem } from '../../src/application/upstream-batch.js';
import type { ProcessOutcome } from '../../src/application/upstream-message.js';
import { PermanentMessageError } from '../../src/errors.js';
import { withPrefix } from '../../src/messaging/subjects.js';
import { startTestApp } from '../helpers/app.js';
import { courseEnvelope, deployedStaging, generationCompleted } from '../helpers/course-events.js';

const { app, db, namespace } = await startTestApp(t, { env: { CONSUMER_ENABLED: 'false', RELAY_ENABLED: 'false' } });
const handleBatch = createUpstreamBatchHandler(app.deps, { consumerName: 'distribution_consumer', subjectPrefix: namespace.id, maxEventBytes: 1024 * 1024 });
let seq = 0;

/** A delivery of CourseFactory's event, its Nats-Msg-Id the envelope id (or `msgId`). */
function delivery(type: string, payload: object, options: { id?: string; raw?: string } = {}): BatchItem & { id: string } {
  const envelope = courseEnvelope(type, payload, { id: options.id });
  return {
    id: envelope.id,
    delivery: {
      subject: withPrefix(namespace.id, type),
      headers: { 'Nats-Msg-Id': [envelope.id] },
      data: Buffer.from(options.raw ?? JSON.stringify(envelope)),
      stream: 'COURSE',
      streamSeq: ++seq,
    },
    seen: {},
  };
}
const generation = (courseId: string, options: { id?: string } = {}) =>
  delivery('course.generation.completed', generationCompleted(courseId, { title: `Batch Kurs ${courseId}` }), options);

/** Each outcome, or the error's name when it failed. */
const settled = (outcomes: Promise<ProcessOutcome>[]) => Promise.all(outcomes.map((o) => o.catch((err: Error) => err.name)));
/** How many transactions inserted the claims of these message ids. */
async function transactionsOf(ids: string[]): Promise<number> {
  const { rows } = await db.query(`select count(distinct xmin::text)::int as n from processed_message where message_id = any($1)`, [ids]);
  return rows[0]!.n;
}
async function distributionsOf(courseId: string): Promise<number> {
  const { rows } = await db.query(`select count(*)::int as n from distribution where course_id = $1`, [courseId]);
  return rows[0]!.n;
}

t.test('when a batch holds a duplicate of a message in it and of one processed before, then every effect happens once, in one transaction', async (t) => {
  const earlier = generation('course_dup_earlier');
  t.strictSame(await settled(handleBatch([earlier])), ['applied'], 'setup: processed before');
  const first = generation('course_dup_a');
  const again = { ...generation('course_dup_a', { id: first.id }), delivery: { ...first.delivery, streamSeq: ++seq } };
  const other = generation('course_dup_b');
  const replayed = { ...earlier, delivery: { ...earlier.delivery, streamSeq: ++seq }, seen: {} };
  t.strictSame(await settled(handleBatch([first, replayed, again, other])), ['applied', 'duplicate', 'duplicate', 'applied']);
  t.equal(await distributionsOf('course_dup_a'), 1, 'one distribution for the message delivered twice');
  t.equal(await distributionsOf('course_dup_earlier'), 1, 'no second distribution for the message processed before');
  t.equal(await transactionsOf([first.id, other.id]), 1, 'the new claims were made in one transaction');
  t.equal(again.seen.messageId, first.id, 'the duplicate is identified for its log line');
});

t.test('when a batch holds a message that cannot be decoded, then it fails alone and the others are applied once in one transaction', async (t) => {
  const a = generation('course_poison_a');
  const poison = delivery('course.generation.completed', {}, { raw: '{"id": "evt_broken", "payload": ' });
  const b = generation('course_poison_b');
  const outcomes = handleBatch([a, poison, b]);
  await t.rejects(outcomes[1]!, PermanentMessageError, 'the poison message fails as the per-message handler fails it (dead letter)');
  t.strictSame(await settled(outcomes), ['applied', 'PermanentMessageError', 'applied']);
  t.equal(await transactionsOf([a.id, b.id]), 1, 'one transaction for the others');
  t.equal((await distributionsOf('course_poison_a')) + (await distributionsOf('course_poison_b')), 2);
});

t.test("when the batch's transaction fails, then nothing of it stays and its messages are handled again one per transaction", async (t) => {
  // A failure only PostgreSQL knows of, at the insert of one course's distribution.
  await db.query(`create or replace function refuse_course() returns trigger language plpgsql as $$
    begin if new.course_id = 'course_refused' then raise exception 'injected refusal'; end if; return new; end $$`);
  await db.query(`create trigger refuse_course before insert on distribution for each row execute function refuse_course()`);
  t.teardown(() => db.query(`drop trigger if exists refuse_course on distribution`));
  const a = generation('course_fallback_a');
  const refused = generation('course_refused');
  const b = generation('course_fallback_b');
  t.strictSame(await settled(handleBatch([a, refused, b])), ['applied', 'error', 'applied'], 'the refused message fails with the database error; the others are applied');
  t.equal(await transactionsOf([a.id, b.id]), 2, 'each in a transaction of its own');
  t.equal(await distributionsOf('course_refused'), 0);
  t.equal(await transactionsOf([refused.id]), 0, 'the refused message is not claimed (it is retried or dead-lettered)');
  const { rows } = await db.query(`select count(*)::int as n from outbox_event where aggregate_id in (select id from distribution where course_id like 'course_fallback_%')`);
  t.equal(rows[0]!.n, 2, 'one distribution.created each, none left from the failed batch');
});

t.test('when a batch holds several events of one course, then they take effect in delivery order', async (t) => {
  const url = (n: number) => `https://staging.example/course_order/${n}`;
  const created = generation('course_order');
  const first = delivery('course.deployed.staging', deployedStaging('course_order', '2025-12-28T10:00:00Z', url(1)));
  const second = delivery('course.deployed.staging', deployedStaging('course_order', '2025-12-28T11:00:00Z', url(2)));
  const unrelated = generation('course_order_other');
  t.strictSame(await settled(handleBatch([created, unrelated, first, second])), ['applied', 'applied', 'applied', 'applied']);
  const { rows } = await db.query(
    `select o.event_type, o.envelope->'payload'->'new_values'->>'staging_url' as url, d.staging_url as final_url
       from outbox_event o join distribution d on d.id = o.aggregate_id where d.course_id = 'course_order' order by o.id`,
  );
  t.strictSame(
    rows.map((r) => [r.event_type, r.url]),
    [
      ['distribution.created', null],
      ['distribution.updated', url(1)],
      ['distribution.updated', url(2)],
    ],
    'created, then the first deployment, then the second (in reverse the older one would be ignored)',
  );
  t.equal(rows[0]?.final_url, url(2));
  t.equal(await transactionsOf([created.id, first.id, second.id, unrelated.id]), 1, 'one transaction');
});

t.test('when a batch holds two completions of one course, then the second finds the distribution the first created', async (t) => {
  const first = generation('course_twice');
  const second = generation('course_twice');
  t.strictSame(await settled(handleBatch([first, second])), ['applied', 'no-op'], 'the second sees the distribution the first created in the same transaction');
  t.equal(await distributionsOf('course_twice'), 1);
});

t.test('when a batch holds a later and then an older completion of a created course, then the later one regenerates it once and the older is a no-op', async (t) => {
  const completed = (at: string) => delivery('course.generation.completed', generationCompleted('course_regen_batch', { title: 'Batch Kurs regen', completed_at: at }));
  t.strictSame(await settled(handleBatch([completed('2025-12-28T09:00:00Z')])), ['applied'], 'setup: the root is created');
  const later = completed('2025-12-29T09:00:00Z');
  const older = completed('2025-12-28T12:00:00Z');
  const resent = completed('2025-12-29T09:00:00Z');
  t.strictSame(await settled(handleBatch([later, older, resent])), ['applied', 'no-op', 'no-op'], 'each completion sees what the one before it in the batch recorded');
  const { rows } = await db.query(`select version from distribution where course_id = 'course_regen_batch'`);
  t.strictSame(
    rows.map((r) => r.version),
    ['v2'],
    'one root, bumped once',
  );
  const bumped = await db.query(
    `select count(*)::int as n from outbox_event o join distribution d on d.id = o.aggregate_id where d.course_id = 'course_regen_batch' and o.event_type = 'distribution.version_bumped'`,
  );
  t.equal(bumped.rows[0]!.n, 1, 'one distribution.version_bumped');
  const { rows: recorded } = await db.query(`select completed_at from course_generation where course_id = 'course_regen_batch'`);
  t.equal(new Date(recorded[0]!.completed_at).toISOString(), '2025-12-29T09:00:00.000Z', 'the latest completed_at is recorded');
  t.equal(await transactionsOf([later.id, older.id, resent.id]), 1, 'one transaction');
});

t.test('when a staging deployment comes before the completion in one batch, then the distribution is created with it', async (t) => {
  const url = 'https://staging.example/course_staged_first';
  const deployed = delivery('course.deployed.staging', deployedStaging('course_staged_first', '2025-12-28T10:00:00Z', url));
  const created = generation('course_staged_first');
  t.strictSame(await settled(handleBatch([deployed, created])), ['applied', 'applied']);
  const { rows } = await db.query(`select staging_url from distribution where course_id = 'course_staged_first'`);
  t.strictSame(
    rows.map((r) => r.staging_url),
    [url],
    'the completion saw the deployment recorded earlier in the transaction',
  );
});
