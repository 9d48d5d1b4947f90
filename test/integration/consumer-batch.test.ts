/**
 * The batched consumer end to end, over the real NATS and PostgreSQL: a backlog waits on CourseFactory's stream
 * before the service starts, so one pull hands the consumer many messages at once. Which messages shared a
 * transaction is read from PostgreSQL (rows inserted by one transaction carry the same `xmin`).
 */
import t, { type Test } from 'tap';
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { ProcessOutcome } from '../../src/messaging/upstream-consumer.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { generationCompleted, publishCourseEvent } from '../helpers/course-events.js';
import { createTestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/event-stream.js';
import { resolveNats } from '../helpers/services.js';
import { connectTestNats, deleteStreamQuietly, natsNamespace, type NatsNamespace } from '../helpers/nats.js';

const nc = await connectTestNats(t);

interface Backlog {
  namespace: NatsNamespace;
  seqs: number[];
}

/** CourseFactory's stream of a namespace of its own, with `publish` run against it before any consumer exists. */
async function backlog(t: Test, publish: (namespace: NatsNamespace) => Promise<number[]>): Promise<Backlog> {
  const namespace = natsNamespace();
  const stream = namespace.stream('COURSE');
  await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [namespace.subject('course.>')], storage: StorageType.File, retention: RetentionPolicy.Limits });
  t.teardown(async () => deleteStreamQuietly((await resolveNats()).url, stream));
  return { namespace, seqs: await publish(namespace) };
}

/** The service, started on the backlog with `batchSize`; records every outcome before its ack. */
async function consume(t: Test, { namespace }: Backlog, batchSize: number): Promise<{ app: TestApp; outcomes: Map<number, ProcessOutcome[]> }> {
  const outcomes = new Map<number, ProcessOutcome[]>();
  const app = await startTestApp(t, {
    db: await createTestDatabase(t),
    namespace,
    env: { COURSE_STREAM: namespace.stream('COURSE'), COURSE_STREAM_CREATE: 'false', CONSUMER_BATCH_SIZE: String(batchSize), RELAY_ENABLED: 'false' },
    overrides: { consumerHooks: { beforeAck: (d, outcome) => (outcomes.set(d.streamSeq, [...(outcomes.get(d.streamSeq) ?? []), outcome]), true) } },
  });
  return { app, outcomes };
}

/** How many transactions claimed the messages of these stream sequences. */
async function transactionsOf(app: TestApp, seqs: number[]): Promise<number> {
  const { rows } = await app.db.query(`select count(distinct xmin::text)::int as n from processed_message where stream_seq = any($1)`, [seqs]);
  return rows[0]!.n;
}

async function settledEverything(app: TestApp): Promise<void> {
  await waitFor('every message acked or terminated', async () => {
    const info = await (await jetstreamManager(nc)).consumers.info(app.config.consumer.streamName, app.config.consumer.durableName);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  });
}

t.test('when a pulled backlog holds a duplicate and a poison message, then the others are applied once in a few transactions and the poison is dead-lettered', async (t) => {
  let duplicateOf = '';
  const log = await backlog(t, async (namespace) => {
    const seqs: number[] = [];
    for (let i = 0; i < 12; i++) {
      const published = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted(`course_batch_${i}`, { title: `Stapel Kurs ${i}` }));
      if (i === 3) duplicateOf = published.id;
      seqs.push(published.seq);
    }
    // The same event again without a Nats-Msg-Id: JetStream stores it, our dedup (by envelope id) must drop it.
    seqs.push((await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_batch_3'), { id: duplicateOf, msgId: null })).seq);
    seqs.push((await publishCourseEvent(nc, namespace.id, 'course.generation.completed', {}, { raw: '{"id": "evt_broken", "payload": ' })).seq);
    return seqs;
  });
  const { app, outcomes } = await consume(t, log, 16);
  await settledEverything(app);
  const valid = log.seqs.slice(0, 12);
  const [duplicate, poison] = log.seqs.slice(12) as [number, number];
  t.strictSame(
    valid.map((seq) => outcomes.get(seq)),
    valid.map(() => ['applied']),
    'each event applied once',
  );
  t.strictSame(outcomes.get(duplicate), ['duplicate'], 'the copy is a duplicate');
  const { rows } = await app.db.query(`select count(*)::int as n from distribution where course_id like 'course_batch_%'`);
  t.equal(rows[0]!.n, 12, 'one distribution per course');
  const letters = (await app.db.query(`select reason, convert_from(data, 'UTF8') as text, stream_seq from dead_letter`)).rows;
  t.equal(letters.length, 1, 'one dead letter');
  t.match(letters[0], { text: '{"id": "evt_broken", "payload": ', reason: /not_json/ }, 'with the original bytes and the reason');
  t.equal(Number(letters[0]?.stream_seq), poison);
  const transactions = await transactionsOf(app, [...valid, duplicate]);
  t.ok(transactions < valid.length / 2, `the claims were made in batches (${transactions} transactions for ${valid.length} messages)`);
});

t.test('when CONSUMER_BATCH_SIZE is 1, then every message has a transaction of its own', async (t) => {
  const log = await backlog(t, async (namespace) => {
    const seqs: number[] = [];
    for (let i = 0; i < 6; i++) {
      seqs.push((await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted(`course_single_${i}`, { title: `Einzeln ${i}` }))).seq);
    }
    return seqs;
  });
  const { app, outcomes } = await consume(t, log, 1);
  await settledEverything(app);
  t.strictSame(
    log.seqs.map((seq) => outcomes.get(seq)),
    log.seqs.map(() => ['applied']),
  );
  t.equal(await transactionsOf(app, log.seqs), log.seqs.length, 'one transaction per message');
});
