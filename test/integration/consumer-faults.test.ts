import t from 'tap';
import { jetstreamManager } from '@nats-io/jetstream';
import type { ProcessOutcome } from '../../src/messaging/upstream-consumer.js';
import { commandSubject } from '../../src/messaging/subjects.js';
import { startTestApp } from '../helpers/app.js';
import { generationCompleted, publishCourseEvent } from '../helpers/course-events.js';
import { makeDatabaseUnavailable } from '../helpers/database-outage.js';
import { waitFor } from '../helpers/event-stream.js';

const outcomes: { seq: number; outcome: ProcessOutcome; acked: boolean }[] = [];
const crashOnce = new Set<number>();
const { app, db, nc, namespace, config } = await startTestApp(t, {
  env: {
    CONSUMER_ACK_WAIT_MS: '1500',
    CONSUMER_MAX_DELIVER: '3',
    CONSUMER_RETRY_BASE_MS: '100',
    CONSUMER_RETRY_MAX_MS: '500',
    DB_ACQUIRE_TIMEOUT_MS: '1000',
  },
  overrides: {
    consumerHooks: {
      beforeAck: (delivery, outcome) => {
        const crash = crashOnce.delete(delivery.streamSeq);
        outcomes.push({ seq: delivery.streamSeq, outcome, acked: !crash });
        return !crash;
      },
    },
  },
});
const outcomesOf = (seq: number) => outcomes.filter((o) => o.seq === seq).map((o) => o.outcome);
const opsCall = async (operation: string, body: unknown) => {
  const msg = await nc.request(commandSubject(namespace.id, 'ops', operation), JSON.stringify(body), { timeout: 10_000 });
  return { status: Number(msg.headers?.get('Nats-Service-Error-Code') ?? 200), body: msg.json<any>() };
};
const deadLetters = async () => (await db.query(`select id, subject, reason, delivery_count, convert_from(data, 'UTF8') as text, stream_seq from dead_letter order by id`)).rows;
const consumerInfo = async () => (await jetstreamManager(nc)).consumers.info(config.consumer.streamName, config.consumer.durableName);

t.test('when a message is not JSON, then it is dead-lettered with its bytes and reason, terminated, and the next one is processed', async (t) => {
  const poison = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', {}, { raw: '{"id": "evt_broken", "payload": ' });
  const good = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_after_poison', { title: 'Nach dem Gift' }));
  await waitFor('the next message processed', () => outcomesOf(good.seq).includes('applied'));
  const letter = await waitFor('the dead letter', async () => (await deadLetters()).find((d) => Number(d.stream_seq) === poison.seq));
  t.match(letter.reason, /not_json/);
  t.equal(letter.text, '{"id": "evt_broken", "payload": ', 'the original bytes are kept');
  t.equal(letter.delivery_count, 1);
  await new Promise((r) => setTimeout(r, 2000)); // longer than ack_wait: a message not terminated would come back
  t.equal((await deadLetters()).filter((d) => Number(d.stream_seq) === poison.seq).length, 1, 'not redelivered after term()');
});

t.test('when a payload violates the schema, then the reason names the field', async (t) => {
  const { title: _title, ...withoutTitle } = generationCompleted('course_no_title');
  const bad = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', withoutTitle);
  const letter = await waitFor('the dead letter', async () => (await deadLetters()).find((d) => Number(d.stream_seq) === bad.seq));
  t.match(letter.reason, /missing required field "title"/);
});

t.test('when the process dies after the commit but before the ack, then the redelivery is recognised as a duplicate and acked', async (t) => {
  const seqBefore = (await consumerInfo()).delivered.stream_seq;
  crashOnce.add(seqBefore + 1);
  const published = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_crash_1', { title: 'Absturz Kurs' }));
  t.equal(published.seq, seqBefore + 1);
  await waitFor('the redelivery', () => outcomesOf(published.seq).length >= 2, 10_000);
  t.same(outcomesOf(published.seq), ['applied', 'duplicate']);
  const { rows } = await db.query(`select count(*)::int as n from distribution where course_id = 'course_crash_1'`);
  t.equal(rows[0]!.n, 1);
  await waitFor('no unacked messages', async () => (await consumerInfo()).num_ack_pending === 0, 5000);
});

t.test('when a message keeps failing, then it is dead-lettered on its last delivery; an operator can replay it once the cause is fixed', async (t) => {
  await db.query(`create function reject_course() returns trigger language plpgsql as $$
    begin if new.course_id = 'course_flaky' then raise exception 'simulated failure'; end if; return new; end $$`);
  await db.query(`create trigger reject_course before insert on distribution for each row execute function reject_course()`);
  t.teardown(() => db.query(`drop trigger if exists reject_course on distribution`));
  const published = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_flaky', { title: 'Wackelkurs' }));
  const letter = await waitFor('the dead letter', async () => (await deadLetters()).find((d) => Number(d.stream_seq) === published.seq), 20_000);
  t.equal(letter.delivery_count, 3, 'after max_deliver deliveries');
  t.match(letter.reason, /gave up after 3 deliveries/);

  const listed = await opsCall('dead_letters', { limit: 100 });
  t.equal(listed.status, 200);
  t.ok(
    listed.body.items.some((i: { id: number }) => i.id === Number(letter.id)),
    'listed by the operator endpoint',
  );
  const inspected = await opsCall('dead_letter', { id: Number(letter.id) });
  t.equal(JSON.parse(inspected.body.data_text).payload.course_id, 'course_flaky', 'inspected with its original body');

  await db.query(`drop trigger reject_course on distribution`);
  const replayed = await opsCall('replay_dead_letter', { id: Number(letter.id) });
  t.same(replayed.body, { id: Number(letter.id), outcome: 'applied' });
  const again = await opsCall('replay_dead_letter', { id: Number(letter.id) });
  t.same(again.body, { id: Number(letter.id), outcome: 'duplicate' }, 'a second replay goes through the same dedup');
  const { rows } = await db.query(`select count(*)::int as n from distribution where course_id = 'course_flaky'`);
  t.equal(rows[0]!.n, 1);
  const open = await opsCall('dead_letters', {});
  t.notOk(
    open.body.items.some((i: { id: number }) => i.id === Number(letter.id)),
    'a replayed letter is no longer open',
  );
  // A letter of its own that can never be processed (no other test's letter is relied on).
  const poison = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', {}, { raw: '{"id": "evt_broken_replay", "payload": ' });
  const poisonLetter = await waitFor('the poison dead letter', async () => (await deadLetters()).find((d) => Number(d.stream_seq) === poison.seq));
  const poisonReplay = await opsCall('replay_dead_letter', { id: Number(poisonLetter.id) });
  t.equal(poisonReplay.status, 400, 'a message that still cannot be processed is refused with the reason');
  t.match(poisonReplay.body.error?.message, /not_json/, 'the reason is named');
  t.equal((await opsCall('dead_letter', { id: 999_999 })).status, 404);
  t.equal((await opsCall('dead_letters', { limit: 'all' })).status, 400);
});

t.test('when the database is unavailable, then the message is not acked, the consumer pauses, and it is processed once the database returns', async (t) => {
  const outage = await makeDatabaseUnavailable(t, db);

  const deliveriesBefore = (await consumerInfo()).delivered.consumer_seq;
  const published = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_outage_1', { title: 'Ausfallkurs' }));
  await waitFor('the consumer paused', () => app.consumer?.status().paused, 10_000);
  t.same(outcomesOf(published.seq), [], 'nothing processed while the database is down');
  // The consumer's delivered.consumer_seq counts every delivery the server made, redeliveries included.
  const atPause = await consumerInfo();
  t.ok(atPause.delivered.consumer_seq > deliveriesBefore, 'the message was delivered before the pause');
  await new Promise((r) => setTimeout(r, 2000)); // longer than ack_wait and several nak delays
  const meanwhile = await consumerInfo();
  t.ok(app.consumer?.status().paused, 'still paused');
  t.equal(meanwhile.delivered.consumer_seq, atPause.delivered.consumer_seq, 'no deliveries burnt meanwhile: the server delivered nothing while paused');
  t.equal(meanwhile.num_redelivered, atPause.num_redelivered, 'nor redelivered anything');
  t.equal(meanwhile.num_ack_pending, 1, 'the message is still pending, neither acked nor terminated');

  await outage.restore();
  await waitFor('processed after the outage', () => outcomesOf(published.seq).includes('applied'), 20_000);
  t.notOk(app.consumer?.status().paused, 'resumed');
  const { rows } = await db.query(`select count(*)::int as n from distribution where course_id = 'course_outage_1'`);
  t.equal(rows[0]!.n, 1);
  t.notOk(
    (await deadLetters()).some((d) => Number(d.stream_seq) === published.seq),
    'not dead-lettered',
  );
  const deliveries = (await consumerInfo()).delivered.consumer_seq - deliveriesBefore;
  t.ok(deliveries < config.consumer.maxDeliver, `processed within its allowed deliveries (${deliveries} of ${config.consumer.maxDeliver})`);
});
