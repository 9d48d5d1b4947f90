/**
 * A row the stream refuses on its own (here: larger than a max_msg_size an operator set after the start) is retried
 * OUTBOX_MAX_ATTEMPTS times, then parked. It never holds up other distributions, not even when its own
 * distribution has more than a batch of rows behind it; those later rows wait behind it (order per distribution).
 * The operator lists parked rows, retries one (after fixing the cause) or discards it.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import t, { type Test } from 'tap';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { streamEvents, waitFor } from '../helpers/event-stream.js';
import { opsGather, opsRequest } from '../helpers/ops.js';

const env = { OUTBOX_BATCH_SIZE: '2', OUTBOX_MAX_ATTEMPTS: '5', OUTBOX_MAX_BACKOFF_MS: '500', OUTBOX_FLUSH_TIMEOUT_MS: '0' };
const tenant = 'parked';

interface Row {
  id: string;
  event_id: string;
  aggregate_id: string;
  attempts: number;
  published_at: Date | null;
  parked_at: Date | null;
  last_error: string | null;
}

/** A distribution with one event on the stream, then the stream limited to 4 KiB per message. */
async function withSmallMessages(app: TestApp): Promise<{ id: string }> {
  const created = await app.call(tenant, 'create', { course_id: 'course_a', title: 'Kurs A', language: 'de' });
  await waitFor('A created on the stream', async () => (await streamEvents(app.nc, app.config.stream.name)).length === 1);
  const jsm = await jetstreamManager(app.nc);
  const info = await jsm.streams.info(app.config.stream.name);
  await jsm.streams.update(app.config.stream.name, { ...info.config, max_msg_size: 4096 });
  return created.body as { id: string };
}

/** An update of `id` whose event is larger than 4 KiB, then two more updates of it: more than a batch of rows of A. */
async function refusedUpdateWithSuccessors(t: Test, app: TestApp, id: string): Promise<void> {
  t.equal((await app.call(tenant, 'update', { id, description: 'x'.repeat(5000) })).status, 200, 'the large update is committed');
  t.equal((await app.call(tenant, 'update', { id, title: 'Kurs A zwei' })).status, 200);
  t.equal((await app.call(tenant, 'update', { id, title: 'Kurs A drei' })).status, 200);
}

const rowsOf = async (app: TestApp) => (await app.db.query<Row>('select * from outbox_event order by id')).rows;

async function createOthers(t: Test, app: TestApp, prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) t.equal((await app.call(tenant, 'create', { course_id: `course_${prefix}${i}`, title: `Kurs ${prefix}${i}`, language: 'de' })).status, 200);
}

t.test(
  'when the stream refuses one row on its own, then it is parked after OUTBOX_MAX_ATTEMPTS, other distributions keep flowing, and an operator retry publishes it',
  async (t) => {
    const app = await startTestApp(t, { env });
    const a = await withSmallMessages(app);
    await refusedUpdateWithSuccessors(t, app, a.id);
    await createOthers(t, app, 'o', 5);

    const others = async () => (await rowsOf(app)).filter((r) => r.aggregate_id !== a.id);
    await waitFor('the other distributions published (more than a batch of them)', async () => (await others()).every((r) => r.published_at), 20_000);
    const refused = () => rowsOf(app).then((rows) => rows.filter((r) => r.aggregate_id === a.id && !r.published_at)[0]!);
    t.equal((await refused()).parked_at, null, 'while the refused row is still being retried (backoffs of 100 + 200 + 400 + 500 ms)');
    await waitFor('the refused row parked', async () => (await refused()).parked_at !== null, 20_000);
    t.equal((await refused()).attempts, 5, 'after OUTBOX_MAX_ATTEMPTS attempts');
    t.match((await refused()).last_error, /size|maximum/i, 'with the refusal');

    await createOthers(t, app, 'p', 3);
    await waitFor('later events of other distributions published too', async () => (await others()).every((r) => r.published_at), 20_000);
    const ofA = await rowsOf(app).then((rows) => rows.filter((r) => r.aggregate_id === a.id));
    t.strictSame(
      ofA.map((r) => r.published_at !== null),
      [true, false, false, false],
      "A's later events wait behind the parked one",
    );

    const [status] = await opsGather(app.nc, app.namespace.id, 'status');
    t.equal(status.outbox.parked, 1, 'ops.status counts the parked row');
    const listed = await opsRequest(app.nc, app.namespace.id, 'outbox_parked');
    t.equal(listed.status, 200);
    t.equal(listed.body.items.length, 1);
    t.match(listed.body.items[0], { id: ofA[1]!.id, event_id: ofA[1]!.event_id, attempts: 5, last_error: /size|maximum/i, blocked: 2 });

    const jsm = await jetstreamManager(app.nc);
    await jsm.streams.update(app.config.stream.name, { ...(await jsm.streams.info(app.config.stream.name)).config, max_msg_size: -1 });
    const retried = await opsRequest(app.nc, app.namespace.id, 'outbox_retry', { id: ofA[1]!.id });
    t.equal(retried.status, 200);
    await waitFor('every event of A published', async () => (await rowsOf(app)).every((r) => r.published_at), 20_000);
    const onStream = (await streamEvents(app.nc, app.config.stream.name)).filter((e) => e.subject.endsWith(a.id)).map((e) => e.headers['Nats-Msg-Id']);
    t.strictSame(
      onStream,
      ofA.map((r) => r.event_id),
      'each event of A once, in order',
    );
    const [after] = await opsGather(app.nc, app.namespace.id, 'status');
    t.equal(after.outbox.parked, 0);
    t.equal((await opsRequest(app.nc, app.namespace.id, 'outbox_retry', { id: ofA[1]!.id })).status, 404, 'a row that is not parked cannot be retried');
  },
);

t.test('when the operator discards a parked row, then it is gone and the later events of its distribution are published', async (t) => {
  const app = await startTestApp(t, { env });
  const a = await withSmallMessages(app);
  await refusedUpdateWithSuccessors(t, app, a.id);
  const ofA = () => rowsOf(app).then((rows) => rows.filter((r) => r.aggregate_id === a.id));
  await waitFor('the refused row parked', async () => (await ofA())[1]?.parked_at, 20_000);
  const parked = (await ofA())[1]!;

  const jsm = await jetstreamManager(app.nc);
  await jsm.streams.update(app.config.stream.name, { ...(await jsm.streams.info(app.config.stream.name)).config, max_msg_size: -1 });
  const discarded = await opsRequest(app.nc, app.namespace.id, 'outbox_discard', { id: parked.id });
  t.equal(discarded.status, 200);
  t.match(discarded.body, { id: parked.id, event_id: parked.event_id, discarded: true });
  await waitFor('the later events of A published', async () => (await ofA()).every((r) => r.published_at), 20_000);
  t.equal((await ofA()).length, 3, 'the discarded row is deleted');
  const onStream = (await streamEvents(app.nc, app.config.stream.name)).map((e) => e.headers['Nats-Msg-Id']);
  t.notOk(onStream.includes(parked.event_id), 'the discarded event was never published');
  t.equal(onStream.length, 3);
});
