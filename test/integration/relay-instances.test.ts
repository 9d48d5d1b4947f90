/**
 * Two instances on one database: exactly one relay is active (the advisory lock), every event is on the stream
 * exactly once in commit order per distribution, whichever instance ran the command; when the active instance
 * stops, the standby takes over and publishes what comes next.
 */
import t, { type Test } from 'tap';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { streamEvents, waitFor } from '../helpers/event-stream.js';
import { deleteStreamQuietly, natsNamespace } from '../helpers/nats.js';
import { resolveNats } from '../helpers/services.js';

const db = await createTestDatabase(t);
const namespace = natsNamespace();
const nats = await resolveNats();
t.teardown(() => deleteStreamQuietly(nats.url, namespace.stream('DISTRIBUTION')));
const env = { OUTBOX_LOCK_RETRY_MS: '100', OUTBOX_MAX_BACKOFF_MS: '200' };
const first = await startTestApp(t, { db, namespace, env });
const second = await startTestApp(t, { db, namespace, env });
const instances = [first, second];
const tenant = 'two_relays';

const unpublished = async () => Number((await db.query<{ n: string }>('select count(*) as n from outbox_event where published_at is null')).rows[0]?.n);

async function assertExactlyOnceInOrder(t: Test, reader: TestApp): Promise<void> {
  const events = await streamEvents(reader.nc, namespace.stream('DISTRIBUTION'));
  const rows = (await db.query<{ event_id: string; aggregate_id: string }>('select event_id, aggregate_id from outbox_event order by id')).rows;
  t.equal(events.length, rows.length, `${rows.length} committed events, as many messages on the stream`);
  t.equal(new Set(events.map((e) => e.headers['Nats-Msg-Id'])).size, events.length, 'none twice');
  let outOfOrder = 0;
  for (const aggregate of new Set(rows.map((r) => r.aggregate_id))) {
    const onStream = events.filter((e) => e.headers['ce-subject'] === aggregate).map((e) => e.headers['Nats-Msg-Id']);
    const committed = rows.filter((r) => r.aggregate_id === aggregate).map((r) => r.event_id);
    if (JSON.stringify(onStream) !== JSON.stringify(committed)) outOfOrder++;
  }
  t.equal(outOfOrder, 0, 'every distribution in commit order');
}

t.test('when two instances run, then one relay is active and every event is on the stream exactly once', async (t) => {
  await waitFor('one relay active', () => instances.some((i) => i.app.relay!.active));
  await new Promise((resolve) => setTimeout(resolve, 300)); // several lock retries of the standby
  t.equal(instances.filter((i) => i.app.relay!.active).length, 1, 'exactly one active relay');

  const ids: string[] = [];
  for (let i = 0; i < 10; i++) {
    const reply = await instances[i % 2]!.call(tenant, 'create', { course_id: `course_${i}`, title: `Zwei Relais ${i}`, language: 'de' });
    t.equal(reply.status, 200);
    ids.push(reply.body.id);
  }
  const replies = await Promise.all(ids.flatMap((id, i) => [1, 2, 3, 4, 5].map((n) => instances[(i + n) % 2]!.call(tenant, 'log_view', { id, referrer_category: 'direct' }))));
  t.ok(
    replies.every((r) => r.status === 200),
    'views counted on both instances',
  );
  for (const [i, id] of ids.entries()) {
    for (let n = 1; n <= 3; n++) t.equal((await instances[(i + n) % 2]!.call(tenant, 'update', { id, title: `Titel ${n}` })).status, 200);
  }
  await waitFor('everything published', async () => (await unpublished()) === 0);
  await assertExactlyOnceInOrder(t, first);
});

t.test('when the active instance stops, then the standby takes over and publishes what follows', async (t) => {
  const active = instances.find((i) => i.app.relay!.active)!;
  const standby = instances.find((i) => i !== active)!;
  await active.app.stop();
  await waitFor('the standby holds the relay lock', () => standby.app.relay!.active, 5000);
  const created = await standby.call(tenant, 'create', { course_id: 'course_after', title: 'Nach der Übernahme', language: 'de' });
  t.equal(created.status, 200);
  await waitFor('published by the new active relay', async () => (await unpublished()) === 0);
  await assertExactlyOnceInOrder(t, standby);
});
