/**
 * Concurrency over real NATS and PostgreSQL: many requests at once on one distribution, on one slug, with one
 * idempotency key, on the counters, and against the mailbox bound. Most cases run TWO app instances on the same
 * database and subject prefix, so the queue group splits the requests and the instances really race each other
 * (the mailbox only serialises within one process; across processes the row version must catch the conflict).
 *
 * The clock override counts how often the command transaction body ran (deps.now() is read once per attempt),
 * so retries are observed without touching the code under test.
 */
import t from 'tap';
import pg from 'pg';
import { startTestApp, type Reply, type TestApp } from '../helpers/app.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

interface CountingClock {
  calls: number;
  now: () => Date;
}

function countingClock(): CountingClock {
  const clock: CountingClock = {
    calls: 0,
    now: () => {
      clock.calls++;
      return new Date();
    },
  };
  return clock;
}

/**
 * The test's own connection to the app's database, closed before the helper drops the database. (The helper's
 * `db.query` pool is left unused: its `end()` resolves before its clients have disconnected, and the following
 * `drop database ... with (force)` can then terminate one of them, which the pool re-emits as an unhandled 'error'.)
 */
async function directSql(t: Teardown, url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());
  return client;
}

interface WithSql {
  sql: pg.Client;
}

interface Instance extends TestApp, WithSql {
  clock: CountingClock;
}

/** Two app instances on one fresh database and one subject prefix: they share the requests through the queue group. */
async function startPair(t: Teardown, env: Record<string, string> = {}): Promise<[Instance, Instance]> {
  const firstClock = countingClock();
  const first = await startTestApp(t, { env, overrides: { now: firstClock.now } });
  const secondClock = countingClock();
  const second = await startTestApp(t, { env, db: first.db, namespace: first.namespace, overrides: { now: secondClock.now } });
  const sql = await directSql(t, first.db.url);
  return [
    { ...first, sql, clock: firstClock },
    { ...second, sql, clock: secondClock },
  ];
}

const COURSE = 'course_concurrency';
const LONG = { timeout: 30_000 };

async function createDistribution(app: TestApp, tenant: string, body: Record<string, unknown> = {}): Promise<string> {
  const reply = await app.call(tenant, 'create', { course_id: COURSE, title: 'Concurrency Kurs', language: 'de', ...body });
  if (reply.status !== 200) throw new Error(`create failed: ${JSON.stringify(reply.body)}`);
  return reply.body.id as string;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function tally(values: readonly (string | number)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[String(v)] = (counts[String(v)] ?? 0) + 1;
  return counts;
}

/** The version_bumped payloads of one distribution, in the order they were written. */
async function bumpedEvents(app: WithSql, id: string): Promise<{ old_version: string; new_version: string; changelog: string }[]> {
  const rows = await app.sql.query(`select envelope->'payload' as payload from outbox_event where event_type = 'distribution.version_bumped' and aggregate_id = $1 order by id`, [
    id,
  ]);
  return rows.rows.map((r) => r.payload);
}

interface CountedRow {
  version: string;
  row_version: number;
  view_count: number;
  enrollment_count: number;
}

async function rowOf(app: WithSql, id: string): Promise<CountedRow> {
  const rows = await app.sql.query<CountedRow>(
    `select version, row_version, view_count::int as view_count, enrollment_count::int as enrollment_count from distribution where id = $1`,
    [id],
  );
  return rows.rows[0]!;
}

t.test('when N bump_version requests on one distribution race across two instances, then no bump is lost', async (t) => {
  const N = 30;
  const [a, b] = await startPair(t, { COMMAND_MAX_ATTEMPTS: '20' });
  const id = await createDistribution(a, 'tenant_bump');
  a.clock.calls = 0;
  b.clock.calls = 0;

  const changelogs = range(1, N).map((i) => `change number ${i}`);
  const replies = await Promise.all(changelogs.map((changelog) => a.call('tenant_bump', 'bump_version', { id, changelog }, LONG)));

  t.same(tally(replies.map((r) => r.status)), { 200: N }, 'every bump succeeded (none ran out of attempts)');
  t.same(
    replies.map((r) => r.body.version).sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))),
    range(2, N + 1).map((n) => `v${n}`),
    'the replies carry each version v2..v(N+1) exactly once',
  );
  t.same(
    replies.map((r) => r.body.row_version).sort((x, y) => x - y),
    range(2, N + 1),
    'the replies carry each row version 2..N+1 exactly once',
  );

  const final = await a.call('tenant_bump', 'get', { id });
  t.match(final.body, { version: `v${N + 1}`, row_version: N + 1 }, 'the stored distribution counts every bump');
  t.match(await rowOf(a, id), { version: `v${N + 1}`, row_version: N + 1 });

  const events = await bumpedEvents(a, id);
  t.equal(events.length, N, 'exactly one version_bumped event per successful bump');
  t.same(
    events.map((e) => [e.old_version, e.new_version]),
    range(1, N).map((n) => [`v${n}`, `v${n + 1}`]),
    'the events, in outbox order, step v1->v2->...->v(N+1) without a gap or a repeat',
  );
  t.same(events.map((e) => e.changelog).sort(), [...changelogs].sort(), "each request's changelog is in exactly one event");

  const attempts = a.clock.calls + b.clock.calls;
  t.ok(a.clock.calls > 0 && b.clock.calls > 0, `both instances served bumps (attempts: first ${a.clock.calls}, second ${b.clock.calls})`);
  t.ok(attempts > N, `cross-instance row-version conflicts happened and were retried (${attempts} attempts for ${N} bumps)`);
  t.comment(`bump race, COMMAND_MAX_ATTEMPTS=20: ${N} bumps, ${attempts} transaction attempts, ${attempts - N} retries`);
});

t.test('when bumps race across two instances with a single attempt, then conflicts answer 409 but no bump is lost', async (t) => {
  const N = 30;
  const [a, b] = await startPair(t, { COMMAND_MAX_ATTEMPTS: '1' });
  const id = await createDistribution(a, 'tenant_bump_once');
  a.clock.calls = 0;
  b.clock.calls = 0;

  const replies = await Promise.all(range(1, N).map((i) => a.call('tenant_bump_once', 'bump_version', { id, changelog: `single attempt ${i}` }, LONG)));
  const successes = replies.filter((r) => r.status === 200);
  const failures = replies.filter((r) => r.status !== 200);

  t.same(
    failures.map((r) => [r.status, r.body.error.code]),
    failures.map(() => [409, 'VERSION_CONFLICT']),
    'every refused bump is a 409 VERSION_CONFLICT',
  );
  t.ok(successes.length >= 1, 'at least one bump got through');
  const S = successes.length;
  t.same(
    successes.map((r) => r.body.version).sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))),
    range(2, S + 1).map((n) => `v${n}`),
    'the successful replies carry v2..v(S+1), once each',
  );
  t.match(await rowOf(a, id), { version: `v${S + 1}`, row_version: S + 1 }, 'the row counts exactly the successful bumps');
  const events = await bumpedEvents(a, id);
  t.equal(events.length, S, 'successes = version_bumped events');
  t.same(
    events.map((e) => [e.old_version, e.new_version]),
    range(1, S).map((n) => [`v${n}`, `v${n + 1}`]),
    'the events step through consecutive versions',
  );
  t.same(
    events.map((e) => e.changelog).sort(),
    successes
      .map((r) => r.body.version)
      .map((v) => events.find((e) => e.new_version === v)?.changelog)
      .sort(),
    'each successful reply has its own event',
  );
  t.equal(a.clock.calls + b.clock.calls, N, 'a single attempt per request: no retries');
  t.comment(`bump race, COMMAND_MAX_ATTEMPTS=1: ${N} bumps, ${S} succeeded, ${failures.length} x 409 VERSION_CONFLICT`);
});

t.test('slug claims and idempotency keys raced across two instances', async (t) => {
  const [a, b] = await startPair(t);

  t.test('when 20 creates ask for the same explicit slug at once, then exactly one gets it and 19 get 409 SLUG_TAKEN', async (t) => {
    const tenant = 'tenant_slug_explicit';
    const replies = await Promise.all(
      range(1, 20).map((i) => (i % 2 ? a : b).call(tenant, 'create', { course_id: COURSE, title: `Bewerber ${i}`, language: 'de', slug: 'der-eine-slug' }, LONG)),
    );
    t.same(tally(replies.map((r) => r.status)), { 200: 1, 409: 19 });
    t.same(
      replies.filter((r) => r.status === 409).map((r) => r.body.error.code),
      Array(19).fill('SLUG_TAKEN'),
      'every loser is told the slug is taken',
    );
    const winner = replies.find((r) => r.status === 200)!;
    t.equal(winner.body.slug, 'der-eine-slug');
    const rows = await a.sql.query(`select id, slug from distribution where tenant_id = $1`, [tenant]);
    t.same(rows.rows, [{ id: winner.body.id, slug: 'der-eine-slug' }], 'exactly one row');
    const outbox = await a.sql.query(`select event_type, aggregate_id from outbox_event where tenant_id = $1`, [tenant]);
    t.same(outbox.rows, [{ event_type: 'distribution.created', aggregate_id: winner.body.id }], "exactly one outbox row, the winner's");
  });

  t.test('when 20 creates with the same title and no slug run at once, then all succeed with base, base-2 ... base-20', async (t) => {
    const tenant = 'tenant_slug_generated';
    const a0 = a.clock.calls + b.clock.calls;
    const replies = await Promise.all(range(1, 20).map(() => a.call(tenant, 'create', { course_id: COURSE, title: 'Gleicher Titel', language: 'de' }, LONG)));
    const attempts = a.clock.calls + b.clock.calls - a0;
    t.comment(`generated slugs: 20 creates, ${attempts} transaction attempts; replies ${JSON.stringify(tally(replies.map((r) => r.status)))}`);
    t.same(
      replies.filter((r) => r.status !== 200).map((r) => r.body),
      [],
      'no create with a generated slug is refused',
    );
    t.same(
      replies.map((r) => r.body.slug).sort(),
      ['gleicher-titel', ...range(2, 20).map((n) => `gleicher-titel-${n}`)].sort(),
      'the slugs are distinct: base, base-2 ... base-20',
    );
    const rows = await a.sql.query(`select count(*)::int as n from distribution where tenant_id = $1`, [tenant]);
    t.equal(rows.rows[0]!.n, replies.filter((r) => r.status === 200).length, 'one row per success');
    const outbox = await a.sql.query(`select count(*)::int as n from outbox_event where tenant_id = $1`, [tenant]);
    t.equal(outbox.rows[0]!.n, replies.filter((r) => r.status === 200).length, 'one created event per success');
  });

  for (const variant of [
    { name: 'a generated slug', extra: {} },
    { name: 'an explicit slug', extra: { slug: 'idempotenter-slug' } },
  ]) {
    t.test(`when 10 creates with one idempotency key and one body (${variant.name}) run at once, then all get the same distribution`, async (t) => {
      const tenant = `tenant_idem_${variant.name.split(' ')[1]}`;
      const body = { course_id: COURSE, title: 'Idempotenter Kurs', language: 'de', idempotency_key: 'same-key-1', ...variant.extra };
      const replies = await Promise.all(range(1, 10).map((i) => (i % 2 ? a : b).call(tenant, 'create', body, LONG)));
      t.same(
        replies.map((r) => [r.status, r.body.error?.code]),
        Array(10).fill([200, undefined]),
        'every request succeeds',
      );
      const ids = new Set(replies.map((r) => r.body.id));
      t.equal(ids.size, 1, 'all replies name the same distribution');
      const rows = await a.sql.query(`select id from distribution where tenant_id = $1`, [tenant]);
      t.equal(rows.rows.length, 1, 'exactly one row');
      const outbox = await a.sql.query(`select event_type from outbox_event where tenant_id = $1`, [tenant]);
      t.same(outbox.rows, [{ event_type: 'distribution.created' }], 'exactly one created event');
      const keys = await a.sql.query(`select count(*)::int as n from idempotency_record where tenant_id = $1`, [tenant]);
      t.equal(keys.rows[0]!.n, 1, 'one idempotency record');
    });
  }
});

t.test('counters under load across two instances', async (t) => {
  const [a, b] = await startPair(t);
  /** Waits until nothing of the tenant is pending announcement (the window is COUNTER_EVENT_WINDOW_MS, 1 s by default). */
  const announced = async (tenant: string) => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await a.sql.query(`select 1 from counter_pending where tenant_id = $1 limit 1`, [tenant])).rows.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  t.test('when 2,000 log_view requests hit 5 distributions at once, then every view is counted exactly once', async (t) => {
    const tenant = 'tenant_views';
    const ids = await Promise.all(range(1, 5).map((i) => createDistribution(a, tenant, { title: `Viel gesehen ${i}` })));
    const categories = ['organic_search', 'paid_search', 'social', 'email', 'referral', 'direct', 'internal', 'unknown'] as const;
    const targets = range(1, 2000).map(() => ids[Math.floor(Math.random() * ids.length)]!);
    const expected = tally(targets);

    const started = Date.now();
    const replies = await Promise.all(targets.map((id, i) => (i % 2 ? a : b).call(tenant, 'log_view', { id, referrer_category: categories[i % categories.length] }, LONG)));
    const ms = Date.now() - started;

    t.same(tally(replies.map((r) => r.status)), { 200: 2000 }, 'every reply is 200');
    t.ok(
      replies.every((r, i) => r.body.distribution_id === targets[i]),
      'every reply names the distribution it counted',
    );
    await announced(tenant);
    const outbox = await a.sql.query(
      `select aggregate_id, (envelope->'payload'->>'view_count')::int as n, envelope->'payload'->>'referrer_category' as category
         from outbox_event where event_type = 'distribution.viewed' and tenant_id = $1 order by id`,
      [tenant],
    );
    for (const id of ids) {
      const n = expected[id] ?? 0;
      t.equal((await rowOf(a, id)).view_count, n, `view_count of ${id} is the client-side count ${n}`);
      t.same(
        replies
          .filter((_, i) => targets[i] === id)
          .map((r) => r.body.view_count)
          .sort((x, y) => x - y),
        range(1, n),
        'the replies hand out each running total 1..n exactly once',
      );
      const totals = outbox.rows.filter((r) => r.aggregate_id === id).map((r) => r.n);
      t.equal(Math.max(...totals), n, 'the latest viewed event carries the final count');
      t.ok(
        totals.every((v, i) => i === 0 || v > totals[i - 1]!),
        'the viewed events of one distribution carry increasing totals in outbox order',
      );
      const credited: Record<string, number> = {};
      outbox.rows.filter((r) => r.aggregate_id === id).forEach((r, i, rows) => (credited[r.category] = (credited[r.category] ?? 0) + r.n - (i === 0 ? 0 : rows[i - 1]!.n)));
      const sent = tally(targets.flatMap((target, i) => (target === id ? [categories[i % categories.length]!] : [])));
      t.same(credited, sent, 'each referrer is credited exactly its own views (differences of consecutive totals)');
    }
    t.ok(outbox.rows.length < 400, `far fewer events than views: ${outbox.rows.length} viewed events for 2000 views`);
    t.comment(`2000 log_view in ${ms} ms -> ${outbox.rows.length} distribution.viewed events`);
  });

  t.test('when 300 enrollment clicks hit 3 distributions at once, then every click is counted exactly once', async (t) => {
    const tenant = 'tenant_clicks';
    const ids = await Promise.all(range(1, 3).map((i) => createDistribution(a, tenant, { title: `Viel geklickt ${i}` })));
    const ctaTypes = ['primary_button', 'secondary_button', 'inline_link', 'banner'] as const;
    const targets = range(1, 300).map(() => ids[Math.floor(Math.random() * ids.length)]!);
    const expected = tally(targets);

    const replies = await Promise.all(targets.map((id, i) => (i % 2 ? a : b).call(tenant, 'track_enrollment_click', { id, cta_type: ctaTypes[i % ctaTypes.length] }, LONG)));
    t.same(tally(replies.map((r) => r.status)), { 200: 300 }, 'every reply is 200');
    await announced(tenant);
    const outbox = await a.sql.query(
      `select aggregate_id, (envelope->'payload'->>'enrollment_count')::int as n from outbox_event where event_type = 'distribution.enrollment_clicked' and tenant_id = $1 order by id`,
      [tenant],
    );
    for (const id of ids) {
      const n = expected[id] ?? 0;
      t.equal((await rowOf(a, id)).enrollment_count, n, `enrollment_count of ${id} is the client-side count ${n}`);
      t.same(
        replies
          .filter((_, i) => targets[i] === id)
          .map((r) => r.body.enrollment_count)
          .sort((x, y) => x - y),
        range(1, n),
        'the replies hand out each running total 1..n exactly once',
      );
      const totals = outbox.rows.filter((r) => r.aggregate_id === id).map((r) => r.n);
      t.equal(Math.max(...totals), n, 'the latest enrollment_clicked event carries the final count');
    }
    t.ok(outbox.rows.length < 300, `fewer events than clicks: ${outbox.rows.length} for 300 clicks`);
    t.comment(`300 clicks -> ${outbox.rows.length} distribution.enrollment_clicked events`);
  });
});

t.test('when more requests arrive than MAILBOX_MAX_PENDING allows, then the excess gets 503 OVERLOADED and the rest all count', async (t) => {
  const started = await startTestApp(t, { env: { MAILBOX_MAX_PENDING: '1' } });
  const app = { ...started, sql: await directSql(t, started.db.url) };
  const id = await createDistribution(app, 'tenant_mailbox');
  const N = 30;
  const replies: Reply<any>[] = await Promise.all(range(1, N).map((i) => app.call('tenant_mailbox', 'bump_version', { id, changelog: `bounded ${i}` }, LONG)));
  const successes = replies.filter((r) => r.status === 200);
  const refused = replies.filter((r) => r.status !== 200);
  t.ok(refused.length > 0, `some requests were refused (${refused.length} of ${N})`);
  t.ok(successes.length > 0, `some requests were served (${successes.length} of ${N})`);
  t.same(
    refused.map((r) => [r.status, r.body.error.code]),
    refused.map(() => [503, 'OVERLOADED']),
    'every refusal is 503 OVERLOADED',
  );
  const S = successes.length;
  t.equal((await bumpedEvents(app, id)).length, S, 'events = successes');
  t.match(await rowOf(app, id), { version: `v${S + 1}`, row_version: S + 1 }, 'the row counts exactly the successes');
  t.comment(`MAILBOX_MAX_PENDING=1: ${N} bumps -> ${S} x 200, ${refused.length} x 503 OVERLOADED`);
});
