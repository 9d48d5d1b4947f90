/**
 * Atomicity and failure over real NATS and PostgreSQL: a command's row change and its outbox rows commit together
 * or not at all, failures injected inside the transaction (a PostgreSQL trigger, a concurrent row lock) roll the
 * whole command back, a database outage answers 503 and heals by itself, and none of it takes the process down.
 */
import t, { type Test } from 'tap';
import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { resolvePostgres } from '../helpers/services.js';

/** Anything that escapes a handler would end up here (or end the process): the last test asserts there was none. */
const escaped: unknown[] = [];
const recordEscape = (err: unknown) => void escaped.push(err);
process.on('unhandledRejection', recordEscape);
process.on('uncaughtException', recordEscape);
t.teardown(() => {
  process.off('unhandledRejection', recordEscape);
  process.off('uncaughtException', recordEscape);
});

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A started app plus the test's own connection to its database (never through the app). */
interface Target extends TestApp {
  sql: pg.Client;
}

/**
 * Opens the test's own connection to the app's database, closed before the helper drops the database. (The helper's
 * `db.query` pool is left unused: its `end()` resolves before its clients have disconnected, and the following
 * `drop database ... with (force)` can then terminate one of them, which the pool re-emits as an unhandled 'error'.)
 */
async function withSql(t: Teardown, started: TestApp): Promise<Target> {
  const sql = new pg.Client({ connectionString: started.db.url });
  await sql.connect();
  t.teardown(() => sql.end());
  return { ...started, sql };
}

const WINDOW_MS = 200;
const app = await withSql(t, await startTestApp(t, { env: { DB_ACQUIRE_TIMEOUT_MS: '1000', COUNTER_EVENT_WINDOW_MS: String(WINDOW_MS) } }));
const { call, db, sql } = app;
const TENANT = 'atomic_tenant';
const PUBLISHABLE = {
  course_id: 'course_atomic',
  language: 'de',
  description: 'Ein Kurs über Geldanlage für Einsteiger.',
  seo: { meta_title: 'Geldanlage lernen', meta_description: 'Alles über Geldanlage, Schritt für Schritt.' },
};

async function create(target: TestApp, body: Record<string, unknown>): Promise<any> {
  const reply = await target.call(TENANT, 'create', { ...PUBLISHABLE, title: 'Atomarer Kurs', ...body });
  if (reply.status !== 200) throw new Error(`create failed: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

async function count(target: Target, from: string, params: unknown[] = []): Promise<number> {
  const result = await target.sql.query(`select count(*)::int as n from ${from}`, params);
  return result.rows[0]!.n;
}

/** Makes every insert of an outbox row of `eventType` fail inside the inserting transaction; returns the undo. */
async function failOutboxInsertsOf(target: Target, eventType: string): Promise<() => Promise<void>> {
  await target.sql.query(`
    create or replace function test_fail_outbox_insert() returns trigger language plpgsql as $$
    begin
      if new.envelope->>'type' = tg_argv[0] then
        raise exception 'injected failure: outbox_event refuses %', tg_argv[0];
      end if;
      return new;
    end $$`);
  await target.sql.query(`create trigger test_fail_outbox_insert before insert on outbox_event for each row execute function test_fail_outbox_insert('${eventType}')`);
  return async () => {
    await target.sql.query(`drop trigger if exists test_fail_outbox_insert on outbox_event`);
  };
}

function assertGenericInternalError(t: Test, reply: { status: number; body: any; headers: Record<string, string> }): void {
  t.equal(reply.status, 500, 'the reply is 500');
  t.equal(reply.body.error.code, 'INTERNAL');
  t.notOk('details' in reply.body.error, 'the error carries no details');
  const wire = JSON.stringify(reply.body) + JSON.stringify(reply.headers);
  t.notMatch(wire, /injected|outbox|trigger|P0001|insert|plpgsql/i, 'neither body nor headers reveal the internal cause');
}

t.test('when a create asks for a slug that is already taken, then it is refused and leaves no row and no outbox row', async (t) => {
  const first = await create(app, { slug: 'vergebener-slug' });
  const again = await call(TENANT, 'create', { ...PUBLISHABLE, title: 'Zweiter Versuch', slug: 'vergebener-slug' });
  t.equal(again.status, 409);
  t.equal(again.body.error.code, 'SLUG_TAKEN');
  t.equal(await count(app, `distribution where slug = 'vergebener-slug'`), 1, 'still exactly one row with the slug');
  t.equal(await count(app, `distribution where title = 'Zweiter Versuch'`), 0, 'the refused create wrote no row');
  t.equal(await count(app, `outbox_event where tenant_id = $1`, [TENANT]), 1, 'still exactly one outbox row');
  t.equal(await count(app, `outbox_event where aggregate_id = $1`, [first.id]), 1, "the outbox row is the first create's");
});

t.test('when the outbox insert fails inside a publish transaction, then the row change is rolled back with it', async (t) => {
  const created = await create(app, { title: 'Wird veröffentlicht' });
  const before = (await sql.query(`select visibility, row_version, updated_at, published_at from distribution where id = $1`, [created.id])).rows[0]!;
  const outboxBefore = await count(app, `outbox_event where aggregate_id = $1`, [created.id]);

  const undo = await failOutboxInsertsOf(app, 'distribution.published');
  t.teardown(undo);
  const failed = await call(TENANT, 'publish', { id: created.id });
  assertGenericInternalError(t, failed);

  const after = (await sql.query(`select visibility, row_version, updated_at, published_at from distribution where id = $1`, [created.id])).rows[0]!;
  t.same(after, before, 'the distribution is still private, with its old row_version, updated_at and no published_at');
  t.equal(await count(app, `outbox_event where aggregate_id = $1`, [created.id]), outboxBefore, 'no outbox row was added');
  t.equal(await count(app, `outbox_event where event_type = 'distribution.published'`), 0, 'no published event exists');
  const read = await call(TENANT, 'get', { id: created.id });
  t.match(read.body, { visibility: 'private', row_version: 1, published_at: null }, 'the API reads the old state');

  await undo();
  const published = await call(TENANT, 'publish', { id: created.id });
  t.equal(published.status, 200, 'without the fault, the same publish succeeds');
  t.match(published.body, { visibility: 'public', row_version: 2 });
  t.equal(await count(app, `outbox_event where event_type = 'distribution.published' and aggregate_id = $1`, [created.id]), 1, 'one published event');
});

t.test('when the pending-announcement insert fails inside a counter flush, then the view is not counted', async (t) => {
  const created = await create(app, { title: 'Wird angesehen' });
  await sql.query(`
    create or replace function test_fail_counter_pending() returns trigger language plpgsql as $$
    begin raise exception 'injected failure: counter_pending refuses'; end $$`);
  await sql.query(`create trigger test_fail_counter_pending before insert on counter_pending for each row execute function test_fail_counter_pending()`);
  const undo = async () => void (await sql.query(`drop trigger if exists test_fail_counter_pending on counter_pending`));
  t.teardown(undo);

  const failed = await call(TENANT, 'log_view', { id: created.id, referrer_category: 'direct' });
  assertGenericInternalError(t, failed);
  const row = (await sql.query(`select view_count::int as n, row_version from distribution where id = $1`, [created.id])).rows[0]!;
  t.same(row, { n: 0, row_version: 1 }, 'an unacknowledged view is not counted');
  t.equal(await count(app, `counter_pending where distribution_id = $1`, [created.id]), 0, 'nothing pending');

  await undo();
  const counted = await call(TENANT, 'log_view', { id: created.id, referrer_category: 'direct' });
  t.same([counted.status, counted.body.view_count], [200, 1], 'without the fault the next view is the first one counted');
  t.equal((await sql.query(`select view_count::int as n from distribution where id = $1`, [created.id])).rows[0]!.n, 1);
});

t.test('when appending the announcement fails, then the counts stay pending and are announced once it succeeds', async (t) => {
  const created = await create(app, { title: 'Wird später angekündigt' });
  const undo = await failOutboxInsertsOf(app, 'distribution.viewed');
  t.teardown(undo);
  const counted = await call(TENANT, 'log_view', { id: created.id, referrer_category: 'email' });
  t.same([counted.status, counted.body.view_count], [200, 1], 'the view is counted: its announcement is a separate transaction');
  await new Promise((resolve) => setTimeout(resolve, 3 * WINDOW_MS));
  t.equal(await count(app, `outbox_event where event_type = 'distribution.viewed' and aggregate_id = $1`, [created.id]), 0, 'no event while the outbox refuses it');
  t.equal(await count(app, `counter_pending where distribution_id = $1`, [created.id]), 1, 'the count is still pending');

  await undo();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && (await count(app, `counter_pending where distribution_id = $1`, [created.id])) > 0) await new Promise((r) => setTimeout(r, 25));
  const viewed = await sql.query(`select envelope->'payload' as p from outbox_event where event_type = 'distribution.viewed' and aggregate_id = $1`, [created.id]);
  t.match(viewed.rows, [{ p: { view_count: 1, referrer_category: 'email' } }], 'announced once the outbox takes it');
});

/**
 * Holds a row lock on the variant (another writer's uncommitted change that bumps its row version), sends a
 * cascading delete of the parent, waits until the delete's transaction is blocked on the variant (the parent row is
 * already written in it), then commits the other change: the delete finds a stale row version on the variant.
 */
async function deleteWhileVariantChanges(target: Target): Promise<{ reply: any; parentId: string; variantId: string }> {
  const parent = await create(target, { title: 'Eltern' });
  const variant = await target.call(TENANT, 'create_micro_niche_variant', { parent_id: parent.id, target_group: ['employees'], title: 'Variante' });
  if (variant.status !== 200) throw new Error(`variant failed: ${JSON.stringify(variant.body)}`);
  const other = new pg.Client({ connectionString: target.db.url });
  await other.connect();
  try {
    await other.query('begin');
    await other.query(`update distribution set title = 'Gleichzeitig geändert', row_version = row_version + 1 where id = $1`, [variant.body.id]);
    const pending = target.call(TENANT, 'delete', { id: parent.id, deleted_by: 'user_42', cascade: true }, { timeout: 15_000 });
    const deadline = Date.now() + 5000;
    for (;;) {
      const blocked = await target.sql.query(
        `select count(*)::int as n from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and query ilike 'update%distribution%'`,
        [target.db.name],
      );
      if (blocked.rows[0]!.n > 0) break;
      if (Date.now() > deadline) throw new Error('the delete never waited for the variant row');
      await new Promise((r) => setTimeout(r, 20));
    }
    await other.query('commit');
    return { reply: await pending, parentId: parent.id, variantId: variant.body.id };
  } finally {
    await other.end();
  }
}

t.test('when a cascading delete meets a concurrent change of a variant and may not retry, then nothing of it is kept', async (t) => {
  const once = await withSql(t, await startTestApp(t, { env: { COMMAND_MAX_ATTEMPTS: '1' } }));
  const { reply, parentId, variantId } = await deleteWhileVariantChanges(once);
  t.equal(reply.status, 409);
  t.equal(reply.body.error.code, 'VERSION_CONFLICT');
  const state = async (id: string) => (await once.sql.query(`select deleted_at, row_version, title from distribution where id = $1`, [id])).rows[0]!;
  t.same(await state(parentId), { deleted_at: null, row_version: 1, title: 'Eltern' }, 'the parent, written before the conflict, is live at its old row version');
  t.same(await state(variantId), { deleted_at: null, row_version: 2, title: 'Gleichzeitig geändert' }, "the variant has only the other writer's change");
  t.equal(await count(once, `outbox_event where event_type = 'distribution.deleted'`), 0, 'no deleted event was stored');
});

t.test('when a cascading delete meets a concurrent change of a variant and may retry, then it succeeds from a fresh read', async (t) => {
  const { reply, parentId, variantId } = await deleteWhileVariantChanges(app);
  t.equal(reply.status, 200, 'the retry succeeds');
  t.same(reply.body.deleted_ids, [parentId, variantId]);
  const rows = await sql.query(`select count(*)::int as n from distribution where id = any($1) and deleted_at is not null`, [[parentId, variantId]]);
  t.equal(rows.rows[0]!.n, 2, 'both are deleted');
  const events = await sql.query(`select aggregate_id from outbox_event where event_type = 'distribution.deleted' and aggregate_id = any($1) order by id`, [[parentId, variantId]]);
  t.same(
    events.rows.map((r) => r.aggregate_id),
    [parentId, variantId],
    'one deleted event each, parent first (the failed first attempt left none)',
  );
});

t.test('when the database refuses connections, then commands answer 503 UNAVAILABLE and the service heals when it is back', async (t) => {
  const existing = await create(app, { title: 'Vor dem Ausfall' });
  const admin = new pg.Client({ connectionString: (await resolvePostgres()).url });
  await admin.connect();
  const allow = async () => {
    await admin.query(`alter database "${db.name}" with allow_connections true`);
  };
  t.teardown(async () => {
    await allow().catch(() => undefined);
    await admin.end().catch(() => undefined);
  });

  await admin.query(`alter database "${db.name}" with allow_connections false`);
  // Only the service's connections (application_name course-distribution): the test's own connection, which checks
  // the rows afterwards, has to survive (a pg client killed while idle throws its 'error' into the process).
  const killed = await admin.query(
    `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name like 'course-distribution%' and pid <> pg_backend_pid()`,
    [db.name],
  );
  t.comment(`terminated ${killed.rowCount} service connection(s)`);

  const started = Date.now();
  const refused = await call(TENANT, 'create', { ...PUBLISHABLE, title: 'Während des Ausfalls' }, { timeout: 15_000 });
  const ms = Date.now() - started;
  t.same([refused.status, refused.body.error?.code], [503, 'UNAVAILABLE'], 'create answers 503 UNAVAILABLE');
  t.ok(ms < 5000, `and fast (${ms} ms with DB_ACQUIRE_TIMEOUT_MS=1000)`);
  t.notMatch(JSON.stringify(refused.body), /allow|accepting|cd_test_|Knex|pool/i, 'the reply does not leak driver internals');

  const read = await call(TENANT, 'get', { id: existing.id }, { timeout: 15_000 });
  t.same([read.status, read.body.error?.code], [503, 'UNAVAILABLE'], 'get answers 503 UNAVAILABLE');
  const view = await call(TENANT, 'log_view', { id: existing.id }, { timeout: 15_000 });
  t.same([view.status, view.body.error?.code], [503, 'UNAVAILABLE'], 'log_view answers 503 UNAVAILABLE');
  const invalid = await call(TENANT, 'get', { id: 'not-an-id' });
  t.same([invalid.status, invalid.body.error?.code], [400, 'VALIDATION_FAILED'], 'the process is up: what needs no database is answered');

  await allow();
  const healed = await call(TENANT, 'create', { ...PUBLISHABLE, title: 'Nach dem Ausfall' }, { timeout: 15_000 });
  t.equal(healed.status, 200, 'the next create after the database is back succeeds');
  t.equal(await count(app, `distribution where title = 'Während des Ausfalls'`), 0, 'the refused create left no row');
  t.equal(await count(app, `distribution where title = 'Nach dem Ausfall'`), 1);
  t.equal(await count(app, `outbox_event where aggregate_id = $1`, [healed.body.id]), 1, 'with its created event');
  const views = (await sql.query(`select view_count::int as n from distribution where id = $1`, [existing.id])).rows[0]!.n;
  t.equal(views, 0, 'the refused view was not counted');
});

/**
 * A TCP proxy in front of PostgreSQL, so the database can become unreachable for one app only. `fail()` makes the
 * outage the way a failover or a broken network path does: new connections are refused, and the connections the app
 * already holds look open until they are used (the first bytes either side sends close them, so nothing waits
 * forever on an answer that will not come). `restore()` listens again on the same port.
 */
async function startPostgresProxy(t: Teardown, databaseUrl: string): Promise<{ url: string; fail(): Promise<void>; restore(): Promise<void> }> {
  const target = new URL(databaseUrl);
  const links = new Set<{ client: Socket; upstream: Socket }>();
  let server: Server | undefined;
  let failed = false;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connectTcp({ host: target.hostname, port: Number(target.port || 5432) });
        const link = { client, upstream };
        links.add(link);
        const drop = () => {
          links.delete(link);
          client.destroy();
          upstream.destroy();
        };
        for (const socket of [client, upstream]) {
          socket.on('error', drop);
          socket.on('close', drop);
        }
        client.on('data', (chunk: Buffer) => (failed ? drop() : upstream.write(chunk)));
        upstream.on('data', (chunk: Buffer) => (failed ? drop() : client.write(chunk)));
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const address = s.address();
        if (typeof address === 'object' && address) port = address.port;
        server = s;
        failed = false;
        resolve();
      });
    });
  const stopListening = async () => {
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  const fail = async () => {
    failed = true;
    const closed = stopListening(); // resolves once the held connections are gone too
    closed.catch(() => undefined);
  };
  await listen();
  t.teardown(async () => {
    failed = true;
    for (const link of links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    await stopListening();
  });
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return { url: url.toString(), fail, restore: listen };
}

t.test('when the database server becomes unreachable under idle pooled connections, then commands answer 503 UNAVAILABLE and the service heals when it is back', async (t) => {
  const database = await createTestDatabase(t);
  const proxy = await startPostgresProxy(t, database.url);
  const cutOff = await withSql(t, await startTestApp(t, { db: database, env: { DATABASE_URL: proxy.url, DB_ACQUIRE_TIMEOUT_MS: '1000' } }));
  const existing = await create(cutOff, { title: 'Vor dem Netzausfall' });
  // Concurrent creates leave several idle connections in the app's pool, which the outage then breaks.
  await Promise.all([1, 2, 3, 4, 5].map((i) => create(cutOff, { title: `Vorher ${i}` })));

  await proxy.fail();
  const started = Date.now();
  const refused = await Promise.all([1, 2, 3, 4, 5].map((i) => cutOff.call(TENANT, 'create', { ...PUBLISHABLE, title: `Während des Netzausfalls ${i}` }, { timeout: 15_000 })));
  const ms = Date.now() - started;
  t.same(
    refused.map((r) => [r.status, r.body.error?.code]),
    Array(5).fill([503, 'UNAVAILABLE']),
    'creates that find their pooled connection broken answer 503 UNAVAILABLE',
  );
  t.ok(ms < 5000, `and fast (${ms} ms)`);
  const read = await cutOff.call(TENANT, 'get', { id: existing.id }, { timeout: 15_000 });
  t.same([read.status, read.body.error?.code], [503, 'UNAVAILABLE'], 'get answers 503 UNAVAILABLE');
  const view = await cutOff.call(TENANT, 'log_view', { id: existing.id }, { timeout: 15_000 });
  t.same([view.status, view.body.error?.code], [503, 'UNAVAILABLE'], 'log_view answers 503 UNAVAILABLE');

  await proxy.restore();
  const healed = await cutOff.call(TENANT, 'create', { ...PUBLISHABLE, title: 'Nach dem Netzausfall' }, { timeout: 15_000 });
  t.equal(healed.status, 200, 'the next create after the database is reachable again succeeds');
  t.equal(await count(cutOff, `distribution where title like 'Während des Netzausfalls%'`), 0, 'the refused creates left no row');
  t.equal(await count(cutOff, `outbox_event where aggregate_id = $1`, [healed.body.id]), 1, 'the healed create has its event');
  t.equal((await cutOff.sql.query(`select view_count::int as n from distribution where id = $1`, [existing.id])).rows[0]!.n, 0, 'the refused view was not counted');
});

t.test('when handlers failed with 500 and 503 before, then the same process still serves requests', async (t) => {
  const created = await create(app, { title: 'Nach allen Fehlern' });
  const read = await call(TENANT, 'get', { id: created.id });
  t.equal(read.status, 200);
  t.equal(read.body.id, created.id);
  t.same(escaped, [], 'no unhandled rejection or uncaught exception escaped a handler');
});
