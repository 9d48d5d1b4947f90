/**
 * create over real NATS and PostgreSQL: its defaults, slugs (given, generated, taken), idempotency keys, and a retry
 * racing its own first attempt.
 * Each success is checked against its response schema, its row and its outbox envelopes (against their event
 * schemas), each failure against its code; every test works in its own tenant (helpers/operations-app.ts).
 */
import pg from 'pg';
import t from 'tap';
import { startOperationsApp, SEO_READY } from '../helpers/operations-app.js';

const { call, db, newTenant, outboxOf, outboxOfTenant, countRows, distributionRow, create, assertOk, assertFailure, assertEnvelope } = await startOperationsApp(t);

t.test('when a distribution is created with a German title and nothing else, then the slug is transliterated and every default is set', async (t) => {
  const tenant = newTenant();
  const reply = await call(tenant, 'create', {
    course_id: 'course_de_1',
    title: 'Größere Übungen für Ärzte & Söhne',
    language: 'de',
    correlation_id: 'req_create_de',
  });
  assertOk(t, reply, 'create');
  const d = reply.body;
  t.match(d.id, /^dist_[0-9A-Z]{26}$/);
  t.strictSame(
    { ...d, id: 'x', created_at: 'x', updated_at: 'x' },
    {
      id: 'x',
      tenant_id: tenant,
      course_id: 'course_de_1',
      slug: 'groessere-uebungen-fuer-aerzte-und-soehne',
      language: 'de',
      title: 'Größere Übungen für Ärzte & Söhne',
      description: '',
      target_group: [],
      visibility: 'private',
      version: 'v1',
      derived_from: null,
      seo: {},
      cta: { label: 'Jetzt einschreiben', type: 'primary_button', url: null },
      staging_url: null,
      staging_deployed_at: null,
      view_count: 0,
      enrollment_count: 0,
      row_version: 1,
      published_at: null,
      created_at: 'x',
      updated_at: 'x',
    },
  );
  t.equal(d.created_at, d.updated_at, 'a new distribution was last updated when it was created');

  const row = await distributionRow(d.id);
  t.match(row, { tenant_id: tenant, slug: d.slug, description: '', target_group: [], visibility: 'private', version: 'v1', seo: {}, row_version: 1, deleted_at: null });
  t.strictSame(row.cta, { label: 'Jetzt einschreiben', type: 'primary_button', url: null });

  const outbox = await outboxOf(d.id);
  t.equal(outbox.length, 1, 'one event');
  assertEnvelope(t, outbox[0], { type: 'distribution.created', tenant, subjectId: d.id, correlationId: 'req_create_de' });
  t.strictSame(outbox[0]?.envelope.payload, {
    distribution_id: d.id,
    course_id: 'course_de_1',
    slug: 'groessere-uebungen-fuer-aerzte-und-soehne',
    language: 'de',
    title: 'Größere Übungen für Ärzte & Söhne',
    target_group: [],
    visibility: 'private',
    version: 'v1',
    derived_from: null,
    created_at: d.created_at,
  });
});

t.test('when an English distribution is created without a correlation id, then its CTA is English and its event gets a generated correlation id', async (t) => {
  const tenant = newTenant();
  const reply = await call(tenant, 'create', { course_id: 'course_en', title: 'Banks & Savings', language: 'en' });
  assertOk(t, reply, 'create');
  t.equal(reply.body.slug, 'banks-and-savings');
  t.strictSame(reply.body.cta, { label: 'Enroll now', type: 'primary_button', url: null });
  const outbox = await outboxOf(reply.body.id);
  t.equal(outbox.length, 1);
  assertEnvelope(t, outbox[0], { type: 'distribution.created', tenant, subjectId: reply.body.id });
});

t.test('when a create names a free slug and content, then they are kept as given', async (t) => {
  const tenant = newTenant();
  const body = {
    course_id: 'course_2',
    title: 'Anything',
    language: 'de-AT',
    slug: 'my-own-slug',
    description: 'Text',
    target_group: ['employees', 'students'],
    seo: SEO_READY,
    cta: { label: 'Los', type: 'banner', url: 'https://example.com/enrol' },
  };
  const reply = await call(tenant, 'create', body);
  assertOk(t, reply, 'create');
  t.match(reply.body, { slug: 'my-own-slug', description: 'Text', language: 'de-AT', target_group: ['employees', 'students'] });
  t.strictSame(reply.body.seo, SEO_READY);
  t.strictSame(reply.body.cta, body.cta);
  const row = await distributionRow(reply.body.id);
  t.match(row, { slug: 'my-own-slug', description: 'Text', target_group: ['employees', 'students'] });
  t.strictSame(row.seo, SEO_READY);
});

t.test('when a create asks for a slug that is taken in the tenant, then 409 SLUG_TAKEN and nothing is written', async (t) => {
  const tenant = newTenant();
  const first = await create(t, tenant, { title: 'First', slug: 'taken-slug' });
  const reply = await call(tenant, 'create', { course_id: 'course_1', title: 'Second', language: 'de', slug: 'taken-slug' });
  assertFailure(t, reply, 409, 'SLUG_TAKEN', { slug: 'taken-slug' });
  t.equal(await countRows('distribution where tenant_id = $1', [tenant]), 1, 'only the first distribution exists');
  t.strictSame(
    (await outboxOfTenant(tenant)).map((r) => r.aggregate_id),
    [first.id],
    'only the first one has an event',
  );
});

t.test('when a generated slug is taken, then the next free one with a -2, -3 suffix is used', async (t) => {
  const tenant = newTenant();
  const a = await create(t, tenant, { title: 'Steuern sparen' });
  const b = await create(t, tenant, { title: 'Steuern sparen' });
  const c = await create(t, tenant, { title: 'Steuern  sparen!' });
  t.strictSame([a.slug, b.slug, c.slug], ['steuern-sparen', 'steuern-sparen-2', 'steuern-sparen-3']);
  const d = await create(t, tenant, { title: 'Other', slug: 'steuern-sparen-4' });
  const e = await create(t, tenant, { title: 'Steuern sparen' });
  t.equal(d.slug, 'steuern-sparen-4');
  t.equal(e.slug, 'steuern-sparen-5', 'an explicitly taken suffix is skipped');
});

t.test('when a create is repeated with the same idempotency key and body, then the first response comes back and only one distribution and one event exist', async (t) => {
  const tenant = newTenant();
  const body = { course_id: 'course_1', title: 'Einmalig', language: 'de', idempotency_key: 'create-key-1' };
  const first = await call(tenant, 'create', body);
  assertOk(t, first, 'create');
  const second = await call(tenant, 'create', body);
  assertOk(t, second, 'create');
  t.strictSame(second.body, first.body, 'the same distribution, byte for byte');
  const retryWithOtherCorrelation = await call(tenant, 'create', { ...body, correlation_id: 'req_retry' });
  t.strictSame(retryWithOtherCorrelation.body, first.body, 'a correlation id does not make it another request');

  t.equal(await countRows('distribution where tenant_id = $1', [tenant]), 1, 'one row');
  const outbox = await outboxOfTenant(tenant);
  t.equal(outbox.length, 1, 'one outbox row');
  t.equal(outbox[0]?.event_type, 'distribution.created');
  t.equal(await countRows('idempotency_record where tenant_id = $1 and operation = $2 and key = $3', [tenant, 'create', 'create-key-1']), 1);
});

t.test('when an idempotency key is reused for a different create, then 409 IDEMPOTENCY_KEY_REUSED and nothing is written', async (t) => {
  const tenant = newTenant();
  await create(t, tenant, { title: 'Original', idempotency_key: 'create-key-2' });
  const reply = await call(tenant, 'create', { course_id: 'course_1', title: 'Something else', language: 'de', idempotency_key: 'create-key-2' });
  assertFailure(t, reply, 409, 'IDEMPOTENCY_KEY_REUSED');
  t.equal(await countRows('distribution where tenant_id = $1', [tenant]), 1);
  t.equal((await outboxOfTenant(tenant)).length, 1);
});

t.test('when a create with an idempotency key and an explicit slug is retried while the first is still in flight, then every retry gets the first response', async (t) => {
  // A client whose first request timed out retries at once: the retries must not fail on the slug their own first
  // attempt is claiming. Without help this race is lost most of the time already; to make it certain, an
  // uncommitted row with the same slug holds every attempt at its insert until all of them are past the
  // idempotency lookup, then goes away, so the attempts commit one after another.
  const tenant = newTenant();
  const body = { course_id: 'course_1', title: 'Parallel', language: 'de', slug: 'parallel-retry', idempotency_key: 'create-key-3' };
  const blocker = new pg.Client({ connectionString: db.url });
  await blocker.connect();
  t.teardown(() => blocker.end());
  await blocker.query('begin');
  await blocker.query(
    `insert into distribution (id, tenant_id, course_id, slug, language, title, cta, created_at, updated_at)
     values ('dist_BLOCKER', $1, 'course_1', 'parallel-retry', 'de', 'blocker', '{}'::jsonb, now(), now())`,
    [tenant],
  );
  const attempts = Promise.all([1, 2, 3, 4].map(() => call(tenant, 'create', body)));
  const deadline = Date.now() + 5000;
  let waiting = 0;
  while (waiting < 4 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const result = await db.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
    waiting = result.rows[0]?.n ?? 0;
  }
  t.equal(waiting, 4, 'all four attempts are in flight at the same time');
  await blocker.query('rollback');

  const replies = await attempts;
  const ok = replies.filter((r) => r.status === 200);
  t.strictSame(
    replies.map((r) => r.status),
    [200, 200, 200, 200],
    `every attempt succeeds (got ${JSON.stringify(replies.map((r) => r.body.error?.code ?? r.body.id))})`,
  );
  t.equal(new Set(ok.map((r) => r.body.id)).size, 1, 'all of them name the same distribution');
  t.equal(await countRows('distribution where tenant_id = $1', [tenant]), 1, 'one row');
  t.equal((await outboxOfTenant(tenant)).length, 1, 'one event');
});
