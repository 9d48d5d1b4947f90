/**
 * The last delivery of a failing message is never spent without a stored dead letter: the server keeps deliveries
 * in reserve beyond the service's own limit, and the service honours the durable's real max_deliver.
 */
import t from 'tap';
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { loadConfig } from '../../src/config.js';
import { upstreamFilterSubject, wantedConsumerConfig } from '../../src/messaging/upstream-provisioning.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { generationCompleted, publishCourseEvent } from '../helpers/course-events.js';
import { createTestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/event-stream.js';
import { deleteStreamQuietly, natsNamespace } from '../helpers/nats.js';
import { resolveNats } from '../helpers/services.js';

const env = {
  CONSUMER_ACK_WAIT_MS: '1500',
  CONSUMER_MAX_DELIVER: '3',
  CONSUMER_RETRY_BASE_MS: '100',
  CONSUMER_RETRY_MAX_MS: '300',
};

async function rejectCourse(db: TestApp['db'], courseId: string): Promise<void> {
  await db.query(`create function reject_course() returns trigger language plpgsql as $$
    begin if new.course_id = '${courseId}' then raise exception 'simulated failure'; end if; return new; end $$`);
  await db.query(`create trigger reject_course before insert on distribution for each row execute function reject_course()`);
}

const deadLetterOf = async (db: TestApp['db'], seq: number) =>
  (await db.query(`select id, reason, delivery_count from dead_letter where stream_seq = $1`, [seq])).rows[0] as { id: string; reason: string; delivery_count: number } | undefined;

t.test('when the dead letter cannot be stored on the last allowed delivery, then the message is kept and dead-lettered once the store recovers', async (t) => {
  const { db, nc, namespace, config } = await startTestApp(t, { env });
  const consumerInfo = async () => (await jetstreamManager(nc)).consumers.info(config.consumer.streamName, config.consumer.durableName);
  await rejectCourse(db, 'course_no_store');
  // The dead-letter table refuses writes, as after a failover to a read-only replica.
  await db.query(`create function read_only_dead_letter() returns trigger language plpgsql as $$
    begin raise exception 'cannot execute INSERT in a read-only transaction' using errcode = '25006'; end $$`);
  await db.query(`create trigger read_only_dead_letter before insert on dead_letter for each row execute function read_only_dead_letter()`);

  const before = (await consumerInfo()).delivered.consumer_seq;
  const published = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_no_store', { title: 'Kein Speicher' }));
  const limit = config.consumer.maxDeliver;
  await waitFor('deliveries beyond the service limit', async () => (await consumerInfo()).delivered.consumer_seq - before > limit + 1, 15_000);
  t.notOk(await deadLetterOf(db, published.seq), 'no dead letter while the store refuses it');
  t.equal((await consumerInfo()).num_ack_pending + (await consumerInfo()).num_pending, 1, 'the message is still with the server');

  await db.query(`drop trigger read_only_dead_letter on dead_letter`);
  const letter = await waitFor('the dead letter once the store recovers', () => deadLetterOf(db, published.seq), 15_000);
  t.match(letter.reason, /gave up after \d+ deliveries: simulated failure/);
  t.ok(letter.delivery_count > limit, `dead-lettered on a delivery past the limit (${letter.delivery_count})`);
  await waitFor('terminated', async () => (await consumerInfo()).num_ack_pending === 0, 5000);
});

t.test(
  'when the durable exists with a smaller max_deliver, then the service honours it and dead-letters on the server’s last delivery, holding it until the letter is stored',
  async (t) => {
    const namespace = natsNamespace();
    const nats = await resolveNats();
    const appEnv = { ...env, CONSUMER_MAX_DELIVER: '5' };
    const db = await createTestDatabase(t);
    const names = loadConfig({ DATABASE_URL: db.url, NATS_URL: nats.url, NATS_SUBJECT_PREFIX: namespace.id, COURSE_STREAM_CREATE: 'true', ...appEnv });
    t.teardown(() => deleteStreamQuietly(nats.url, names.stream.name));
    t.teardown(() => deleteStreamQuietly(nats.url, names.consumer.streamName));
    const admin = await connect({ servers: nats.url });
    t.teardown(() => admin.close());
    const jsm = await jetstreamManager(admin);
    await jsm.streams.add({ name: names.consumer.streamName, subjects: [upstreamFilterSubject(namespace.id)], storage: StorageType.File, retention: RetentionPolicy.Limits });
    await jsm.consumers.add(names.consumer.streamName, { ...wantedConsumerConfig(names.consumer, namespace.id), max_deliver: 2 });

    const { nc } = await startTestApp(t, { env: appEnv, db, namespace });
    await rejectCourse(db, 'course_small_durable');
    const published = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_small_durable', { title: 'Kleiner Verbraucher' }));
    const letter = await waitFor('the dead letter on the server’s last delivery', () => deadLetterOf(db, published.seq), 10_000);
    t.equal(letter.delivery_count, 2, 'the server’s max_deliver, not CONSUMER_MAX_DELIVER');
    t.match(letter.reason, /gave up after 2 deliveries/);
    const info = await jsm.consumers.info(names.consumer.streamName, names.consumer.durableName);
    t.equal(info.config.max_deliver, 2, 'the durable is left as it is');

    // On the server's last delivery a dead letter that cannot be stored is retried with the message held in hand.
    await db.query(`create function full_disk_dead_letter() returns trigger language plpgsql as $$
    begin raise exception 'could not extend file: No space left on device' using errcode = '53100'; end $$`);
    await db.query(`create trigger full_disk_dead_letter before insert on dead_letter for each row execute function full_disk_dead_letter()`);
    const held = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_small_durable', { title: 'Festgehalten' }));
    await new Promise((r) => setTimeout(r, 3000)); // twice ack_wait: a message not held would be gone
    t.notOk(await deadLetterOf(db, held.seq), 'no dead letter while the store refuses it');
    await db.query(`drop trigger full_disk_dead_letter on dead_letter`);
    const heldLetter = await waitFor('the held message dead-lettered once the store recovers', () => deadLetterOf(db, held.seq), 10_000);
    t.equal(heldLetter.delivery_count, 2, 'on the server’s last delivery');
  },
);
