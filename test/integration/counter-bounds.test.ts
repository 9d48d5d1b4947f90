/**
 * The counters' bounds over real NATS and PostgreSQL, with a distribution row held by a test transaction (as a long
 * editor transaction or a stuck session would): the queue refuses past COUNTER_MAX_QUEUED, a locked row stalls only
 * its own distribution's views (COUNTER_LOCK_TIMEOUT_MS), and a view that waited past COUNTER_QUEUE_TIMEOUT_MS is
 * answered 503 and never counted.
 */
import t from 'tap';
import pg from 'pg';
import { startTestApp, type Reply } from '../helpers/app.js';

const QUEUE_TIMEOUT_MS = 1500;
const { call, db } = await startTestApp(t, {
  env: { COUNTER_MAX_QUEUED: '20', COUNTER_LOCK_TIMEOUT_MS: '100', COUNTER_QUEUE_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS) },
});
const tenant = 'bounds';

async function create(title: string): Promise<string> {
  const reply = await call(tenant, 'create', { course_id: 'course_1', language: 'de', title });
  if (reply.status !== 200) throw new Error(`setup: create failed: ${JSON.stringify(reply.body)}`);
  return (reply.body as { id: string }).id;
}

/** Holds the row's lock in a transaction of its own until the returned release is called. */
async function lockRow(id: string): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('begin');
  await client.query('select id from distribution where id = $1 for update', [id]);
  return async () => {
    await client.query('rollback');
    await client.end();
  };
}

const viewCount = async (id: string): Promise<number> => (await db.query<{ n: number }>('select view_count::int as n from distribution where id = $1', [id])).rows[0]!.n;

/** A view; a reply that does not come within `timeout` is status 0. */
const view = (id: string, timeout = 10_000): Promise<Reply<any>> => call(tenant, 'log_view', { id }, { timeout }).catch(() => ({ status: 0, body: null, headers: {} }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test(
  'when more views than COUNTER_MAX_QUEUED wait for a locked row, then the excess gets 503 OVERLOADED at once and the accepted ones are counted after the lock is released',
  async (t) => {
    const id = await create('Gestaut');
    const release = await lockRow(id);
    const replies: Reply<any>[] = [];
    const sent = Array.from({ length: 30 }, () => view(id).then((r) => (replies.push(r), r)));
    const deadline = Date.now() + 1000;
    while (replies.length < 10 && Date.now() < deadline) await sleep(10);
    t.equal(replies.length, 10, 'ten answered while the row is locked');
    t.ok(
      replies.every((r) => r.status === 503 && r.body?.error?.code === 'OVERLOADED'),
      `all of them 503 OVERLOADED (${JSON.stringify(replies.map((r) => r.body?.error?.code ?? r.status))})`,
    );
    await release();
    const all = await Promise.all(sent);
    t.equal(all.filter((r) => r.status === 200).length, 20, 'the twenty accepted are answered 200');
    t.equal(await viewCount(id), 20, 'and counted');
  },
);

t.test("when one distribution's row is locked, then views of another in the same flush window are answered promptly and counted while its own wait", async (t) => {
  const locked = await create('Gesperrt');
  const free = await create('Frei');
  const release = await lockRow(locked);
  const lockedViews = Array.from({ length: 3 }, () => view(locked));
  const started = Date.now();
  const freeReplies = await Promise.all(Array.from({ length: 3 }, () => view(free, 3000)));
  const took = Date.now() - started;
  t.strictSame(
    freeReplies.map((r) => r.status),
    [200, 200, 200],
    'the free distribution is answered',
  );
  t.ok(took < 1000, `within a second (${took} ms)`);
  t.equal(await viewCount(free), 3, 'and counted');
  t.equal(await viewCount(locked), 0, 'the locked one is not counted yet');
  await release();
  t.strictSame(
    (await Promise.all(lockedViews)).map((r) => r.status),
    [200, 200, 200],
    "the locked one's views are answered once the lock is gone",
  );
  t.equal(await viewCount(locked), 3);
});

t.test('when a view waits longer than COUNTER_QUEUE_TIMEOUT_MS, then it is answered 503 and not counted later', async (t) => {
  const id = await create('Verlassen');
  const release = await lockRow(id);
  const started = Date.now();
  const reply = await view(id, QUEUE_TIMEOUT_MS + 3000);
  const took = Date.now() - started;
  t.equal(reply.status, 503, `503 (got ${JSON.stringify(reply.body)})`);
  t.equal(reply.body?.error?.code, 'UNAVAILABLE');
  t.ok(took >= QUEUE_TIMEOUT_MS - 50 && took < QUEUE_TIMEOUT_MS + 1000, `after about COUNTER_QUEUE_TIMEOUT_MS (${took} ms)`);
  await release();
  await sleep(300);
  t.equal(await viewCount(id), 0, 'the abandoned view is never counted');
  t.equal((await view(id)).status, 200, 'a later view is');
  t.equal(await viewCount(id), 1);
});
