/**
 * Every operation over real NATS and PostgreSQL: its success (reply body against its response schema, the row,
 * the outbox envelopes against their event schemas) and every error code it can give. Each test works in its own
 * tenant, so rows and outbox events of one test never show up in another's queries.
 */
import pg from 'pg';
import t, { type Test } from 'tap';
import { createContractValidator, type SchemaName } from '../../src/contracts/index.js';
import { startTestApp, type Reply } from '../helpers/app.js';

const { call, db } = await startTestApp(t);
const validator = createContractValidator();

let tenantCounter = 0;
/** A tenant of its own for each test. */
const newTenant = (): string => `ops_test_${++tenantCounter}`;

const SEO_READY = { meta_title: 'Bankwechsel leicht gemacht', meta_description: 'Wie Sie in zehn Minuten die Bank wechseln.', meta_keywords: ['bank'] };

interface OutboxRow {
  id: string;
  event_id: string;
  event_type: string;
  subject: string;
  aggregate_id: string;
  tenant_id: string;
  envelope: any;
}

/** The outbox events of one distribution (the aggregate of the subject), in the order they were written. */
async function outboxOf(distributionId: string): Promise<OutboxRow[]> {
  const result = await db.query<OutboxRow>(
    `select id, event_id, event_type, subject, aggregate_id, tenant_id, envelope from outbox_event where aggregate_id = $1 order by id`,
    [distributionId],
  );
  return result.rows;
}

async function outboxOfTenant(tenant: string): Promise<OutboxRow[]> {
  const result = await db.query<OutboxRow>(
    `select id, event_id, event_type, subject, aggregate_id, tenant_id, envelope from outbox_event where tenant_id = $1 order by id`,
    [tenant],
  );
  return result.rows;
}

async function countRows(sql: string, params: unknown[]): Promise<number> {
  const result = await db.query<{ n: number }>(`select count(*)::int as n from ${sql}`, params);
  return result.rows[0]?.n ?? -1;
}

/** A success: status 200, no error headers, and the body valid against the operation's response schema. */
function assertOk(t: Test, reply: Reply<any>, operation: string): void {
  t.equal(reply.status, 200, `${operation} succeeds (got ${JSON.stringify(reply.body)})`);
  t.equal(reply.headers['Nats-Service-Error-Code'], undefined, 'a success carries no error code header');
  t.equal(reply.headers['Nats-Service-Error'], undefined, 'a success carries no error header');
  const checked = validator.validate(`op.${operation}.response` as SchemaName, reply.body);
  t.ok(checked.ok, `the reply matches op.${operation}.response`, { issues: checked.ok ? [] : checked.issues });
}

/** A failure: the status in the header and the body's code, the message in the header, the body valid against error. */
function assertFailure(t: Test, reply: Reply<any>, status: number, code: string, details?: unknown): void {
  t.equal(reply.status, status, `status ${status} (got ${JSON.stringify(reply.body)})`);
  t.equal(reply.headers['Nats-Service-Error-Code'], String(status), 'Nats-Service-Error-Code header');
  t.equal(reply.body?.error?.code, code, `code ${code}`);
  t.type(reply.body?.error?.message, 'string');
  t.not(reply.body?.error?.message, '', 'the message is not empty');
  t.equal(reply.headers['Nats-Service-Error'], reply.body?.error?.message, 'Nats-Service-Error header carries the message');
  const checked = validator.validate('error', reply.body);
  t.ok(checked.ok, 'the body matches error.schema.json', { issues: checked.ok ? [] : checked.issues });
  if (details !== undefined) t.strictSame(reply.body.error.details, details, 'details');
}

/**
 * An outbox row as the contract wants it: the envelope valid against its event schema, the subject
 * `<type>.<distribution id>`, meta naming the tenant, the correlation id (the request's, else a generated corr_...)
 * and a cmd_... causation id.
 */
function assertEnvelope(
  t: Test,
  row: OutboxRow | undefined,
  expected: { type: string; tenant: string; subjectId: string; correlationId?: string },
): void {
  if (!row) {
    t.fail(`expected an outbox row ${expected.type}`);
    return;
  }
  t.equal(row.event_type, expected.type, 'event type');
  const checked = validator.validate(row.event_type as SchemaName, row.envelope);
  t.ok(checked.ok, `the envelope matches ${row.event_type}`, { issues: checked.ok ? [] : checked.issues });
  t.equal(row.envelope.type, expected.type, 'envelope type');
  t.equal(row.envelope.id, row.event_id, 'the envelope id is the stored event id');
  t.match(row.envelope.id, /^evt_[0-9A-Z]{26}$/, 'an evt_ id');
  t.equal(row.subject, `${expected.type}.${expected.subjectId}`, 'subject <type>.<distribution id>');
  t.equal(row.aggregate_id, expected.subjectId, 'aggregate id');
  t.equal(row.tenant_id, expected.tenant, 'outbox row tenant');
  t.equal(row.envelope.meta.tenant_id, expected.tenant, 'meta.tenant_id');
  t.equal(row.envelope.meta.schema_version, '1.0');
  t.equal(row.envelope.meta.producer, 'course_distribution');
  if (expected.correlationId !== undefined) t.equal(row.envelope.meta.correlation_id, expected.correlationId, "meta.correlation_id is the request's");
  else t.match(row.envelope.meta.correlation_id, /^corr_[0-9A-Z]{26}$/, 'meta.correlation_id is a generated corr_ id');
  t.match(row.envelope.meta.causation_id, /^cmd_[0-9A-Z]{26}$/, 'meta.causation_id is a cmd_ id');
}

async function create(t: Test, tenant: string, body: Record<string, unknown>): Promise<any> {
  const reply = await call(tenant, 'create', { course_id: 'course_1', language: 'de', ...body });
  t.equal(reply.status, 200, `setup: create ${JSON.stringify(body)} (got ${JSON.stringify(reply.body)})`);
  return reply.body;
}

/** A distribution that satisfies the publish requirements. */
function createPublishable(t: Test, tenant: string, body: Record<string, unknown> = {}): Promise<any> {
  return create(t, tenant, { title: 'Bankwechsel', description: 'Alles zum Bankwechsel.', seo: SEO_READY, ...body });
}

async function distributionRow(id: string): Promise<any> {
  const result = await db.query(
    `select id, tenant_id, slug, title, description, target_group, visibility, version, derived_from, seo, cta,
            view_count::int, enrollment_count::int, row_version, published_at, deleted_at, deleted_by
       from distribution where id = $1`,
    [id],
  );
  return result.rows[0];
}

// --- create ---

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
  t.strictSame((await outboxOfTenant(tenant)).map((r) => r.aggregate_id), [first.id], 'only the first one has an event');
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
    const result = await db.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    );
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

// --- get, get_by_slug ---

t.test('when a distribution is read by id and by slug, then both give it as created; unknown ones are 404 NOT_FOUND', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Lesen' });

  const byId = await call(tenant, 'get', { id: created.id });
  assertOk(t, byId, 'get');
  t.strictSame(byId.body, created);
  const bySlug = await call(tenant, 'get_by_slug', { slug: 'lesen' });
  assertOk(t, bySlug, 'get_by_slug');
  t.strictSame(bySlug.body, created);

  const unknownId = 'dist_01JAAAAAAAAAAAAAAAAAAAAAAA';
  assertFailure(t, await call(tenant, 'get', { id: unknownId }), 404, 'NOT_FOUND', { id: unknownId });
  assertFailure(t, await call(tenant, 'get_by_slug', { slug: 'no-such-slug' }), 404, 'NOT_FOUND', { slug: 'no-such-slug' });
});

t.test('when a distribution was deleted, then get and get_by_slug answer 404 NOT_FOUND', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Weg damit' });
  assertOk(t, await call(tenant, 'delete', { id: created.id, deleted_by: 'user_1' }), 'delete');
  assertFailure(t, await call(tenant, 'get', { id: created.id }), 404, 'NOT_FOUND', { id: created.id });
  assertFailure(t, await call(tenant, 'get_by_slug', { slug: created.slug }), 404, 'NOT_FOUND', { slug: created.slug });
});

// --- list ---

t.test('when list is filtered by course, visibility, target group or parent, then exactly the matching live distributions come back in id order', async (t) => {
  const tenant = newTenant();
  const a = await createPublishable(t, tenant, { course_id: 'course_a', title: 'A', target_group: ['employees'] });
  const b = await createPublishable(t, tenant, { course_id: 'course_a', title: 'B', target_group: ['students', 'employees'] });
  const c = await createPublishable(t, tenant, { course_id: 'course_c', title: 'C', target_group: ['retirees'] });
  const variant = await call(tenant, 'create_micro_niche_variant', { parent_id: a.id, target_group: ['managers'] });
  assertOk(t, variant, 'create_micro_niche_variant');
  const v = variant.body;
  const gone = await createPublishable(t, tenant, { course_id: 'course_a', title: 'Gone', target_group: ['employees'] });
  assertOk(t, await call(tenant, 'delete', { id: gone.id, deleted_by: 'user_1' }), 'delete');
  assertOk(t, await call(tenant, 'publish', { id: b.id }), 'publish');
  // Another tenant's distribution of the same course never shows up.
  await createPublishable(t, newTenant(), { course_id: 'course_a', title: 'Elsewhere', target_group: ['employees'] });

  const ids = async (filter: Record<string, unknown>): Promise<string[]> => {
    const reply = await call(tenant, 'list', filter);
    assertOk(t, reply, 'list');
    t.equal(reply.body.next_cursor, null, `one page for ${JSON.stringify(filter)}`);
    for (const item of reply.body.items) t.equal(item.tenant_id, tenant);
    return reply.body.items.map((d: { id: string }) => d.id);
  };
  const sorted = (...list: string[]): string[] => [...list].sort();

  t.strictSame(await ids({}), sorted(a.id, b.id, c.id, v.id), 'no filter: every live distribution of the tenant');
  t.strictSame(await ids({ course_id: 'course_a' }), sorted(a.id, b.id, v.id), 'course_id (the variant has its parent\'s course)');
  t.strictSame(await ids({ visibility: 'public' }), [b.id], 'visibility public');
  t.strictSame(await ids({ visibility: 'private' }), sorted(a.id, c.id, v.id), 'visibility private');
  t.strictSame(await ids({ target_group: 'employees' }), sorted(a.id, b.id), 'target_group contains employees');
  t.strictSame(await ids({ derived_from: a.id }), [v.id], 'derived_from');
  t.strictSame(await ids({ derived_from: c.id }), [], 'a distribution without variants');
  t.strictSame(await ids({ course_id: 'course_a', visibility: 'private' }), sorted(a.id, v.id), 'filters combine with AND');
  t.strictSame(await ids({ course_id: 'course_a', target_group: 'retirees' }), [], 'no match: an empty page');
});

t.test('when a list is read page by page, then every distribution comes exactly once and the last page has next_cursor null', async (t) => {
  const tenant = newTenant();
  const created: string[] = [];
  for (let i = 0; i < 7; i++) created.push((await create(t, tenant, { title: `Seite ${i}` })).id);

  const seen: string[] = [];
  const pageSizes: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const reply = await call(tenant, 'list', { limit: 3, ...(cursor !== undefined && { cursor }) });
    assertOk(t, reply, 'list');
    pageSizes.push(reply.body.items.length);
    seen.push(...reply.body.items.map((d: { id: string }) => d.id));
    if (reply.body.next_cursor === null) break;
    t.type(reply.body.next_cursor, 'string');
    cursor = reply.body.next_cursor;
  }
  t.strictSame(pageSizes, [3, 3, 1], 'pages of 3, 3 and 1');
  t.strictSame(seen, [...created].sort(), 'every distribution once, in id order');
  t.equal(new Set(seen).size, seen.length, 'no duplicates');

  const exact = await call(tenant, 'list', { limit: 7 });
  t.equal(exact.body.items.length, 7);
  t.equal(exact.body.next_cursor, null, 'a page that holds the rest exactly is the last page');
  const sixAndRest = await call(tenant, 'list', { limit: 6 });
  t.type(sixAndRest.body.next_cursor, 'string', 'one left: another page');
  const rest = await call(tenant, 'list', { limit: 6, cursor: sixAndRest.body.next_cursor });
  t.strictSame(rest.body.items.map((d: { id: string }) => d.id), [[...created].sort()[6]]);
  t.equal(rest.body.next_cursor, null);
});

t.test('when list gets a cursor it did not issue or a limit out of range, then 400 VALIDATION_FAILED names the field', async (t) => {
  const tenant = newTenant();
  const notACursor = { path: '/cursor', reason: 'not a cursor from next_cursor' };
  for (const cursor of [
    'garbage!!',
    Buffer.from('null').toString('base64url'),
    Buffer.from(JSON.stringify({ after: 'not-an-id' })).toString('base64url'),
    Buffer.from(JSON.stringify({ before: 'dist_01JAAAAAAAAAAAAAAAAAAAAAAA' })).toString('base64url'),
  ]) {
    const reply = await call(tenant, 'list', { cursor });
    assertFailure(t, reply, 400, 'VALIDATION_FAILED', [notACursor]);
  }
  for (const [body, path] of [
    [{ cursor: '' }, '/cursor'],
    [{ limit: 0 }, '/limit'],
    [{ limit: 101 }, '/limit'],
  ] as const) {
    const reply = await call(tenant, 'list', body);
    assertFailure(t, reply, 400, 'VALIDATION_FAILED');
    t.match(reply.body.error.details, [{ path, reason: String }], `details name ${path}`);
  }
});

// --- update ---

t.test('when an update changes fields, then row_version goes up by one and distribution.updated names exactly the changed fields with old and new values', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Alt', description: 'same', target_group: ['employees'] });
  const reply = await call(tenant, 'update', {
    id: created.id,
    // Sent in another order than the contract's; description unchanged.
    cta: { label: 'Jetzt starten', type: 'secondary_button', url: null },
    description: 'same',
    title: 'Neu',
    target_group: ['students'],
    correlation_id: 'req_update_1',
  });
  assertOk(t, reply, 'update');
  t.match(reply.body, { id: created.id, title: 'Neu', description: 'same', target_group: ['students'], row_version: 2, slug: created.slug });
  t.strictSame(reply.body.cta, { label: 'Jetzt starten', type: 'secondary_button', url: null });
  t.not(reply.body.updated_at, created.updated_at, 'updated_at moves');
  t.equal(reply.body.created_at, created.created_at, 'created_at stays');

  const row = await distributionRow(created.id);
  t.match(row, { title: 'Neu', description: 'same', target_group: ['students'], row_version: 2 });

  const outbox = await outboxOf(created.id);
  t.strictSame(outbox.map((r) => r.event_type), ['distribution.created', 'distribution.updated']);
  assertEnvelope(t, outbox[1], { type: 'distribution.updated', tenant, subjectId: created.id, correlationId: 'req_update_1' });
  t.strictSame(outbox[1]?.envelope.payload, {
    distribution_id: created.id,
    updated_fields: ['title', 'target_group', 'cta'],
    old_values: { title: 'Alt', target_group: ['employees'], cta: { label: 'Jetzt einschreiben', type: 'primary_button', url: null } },
    new_values: { title: 'Neu', target_group: ['students'], cta: { label: 'Jetzt starten', type: 'secondary_button', url: null } },
    updated_at: reply.body.updated_at,
  });
});

t.test('when an update changes nothing, then the same row_version comes back and no event is written', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Fest', seo: { meta_title: 'T', meta_description: 'D' } });
  const reply = await call(tenant, 'update', {
    id: created.id,
    title: 'Fest',
    slug: created.slug,
    // The same object with its keys in another order is no change.
    seo: { meta_description: 'D', meta_title: 'T' },
    expected_version: 1,
  });
  assertOk(t, reply, 'update');
  t.strictSame(reply.body, created, 'unchanged, row_version 1, same updated_at');
  t.equal((await distributionRow(created.id)).row_version, 1);
  t.strictSame((await outboxOf(created.id)).map((r) => r.event_type), ['distribution.created'], 'no new event');

  const onlyId = await call(tenant, 'update', { id: created.id });
  assertOk(t, onlyId, 'update');
  t.equal(onlyId.body.row_version, 1, 'an update without fields is no change either');
});

t.test('when an update carries a stale expected_version, then 409 VERSION_CONFLICT and nothing changes', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Version' });
  assertOk(t, await call(tenant, 'update', { id: created.id, title: 'Version 2', expected_version: 1 }), 'update');

  const stale = await call(tenant, 'update', { id: created.id, title: 'Version 3', expected_version: 1 });
  assertFailure(t, stale, 409, 'VERSION_CONFLICT', { expected_version: 1, row_version: 2 });
  const ahead = await call(tenant, 'update', { id: created.id, title: 'Version 3', expected_version: 5 });
  assertFailure(t, ahead, 409, 'VERSION_CONFLICT', { expected_version: 5, row_version: 2 });
  t.match(await distributionRow(created.id), { title: 'Version 2', row_version: 2 });
  t.equal((await outboxOf(created.id)).length, 2, 'created + one updated');

  const current = await call(tenant, 'update', { id: created.id, title: 'Version 3', expected_version: 2 });
  assertOk(t, current, 'update');
  t.equal(current.body.row_version, 3);
});

t.test('when an update sets a slug another distribution of the tenant has, then 409 SLUG_TAKEN and nothing changes', async (t) => {
  const tenant = newTenant();
  const other = await create(t, tenant, { title: 'Besetzt' });
  const created = await create(t, tenant, { title: 'Frei' });
  const reply = await call(tenant, 'update', { id: created.id, slug: other.slug, title: 'Changed too' });
  assertFailure(t, reply, 409, 'SLUG_TAKEN');
  t.match(await distributionRow(created.id), { slug: 'frei', title: 'Frei', row_version: 1 });
  t.strictSame((await outboxOf(created.id)).map((r) => r.event_type), ['distribution.created']);

  const free = await call(tenant, 'update', { id: created.id, slug: 'ganz-frei' });
  assertOk(t, free, 'update');
  t.equal(free.body.slug, 'ganz-frei');
  assertOk(t, await call(tenant, 'get_by_slug', { slug: 'ganz-frei' }), 'get_by_slug');
  assertFailure(t, await call(tenant, 'get_by_slug', { slug: 'frei' }), 404, 'NOT_FOUND', { slug: 'frei' });
});

t.test('when an update names an unknown or deleted distribution, then 404 NOT_FOUND', async (t) => {
  const tenant = newTenant();
  const unknownId = 'dist_01JBBBBBBBBBBBBBBBBBBBBBBB';
  assertFailure(t, await call(tenant, 'update', { id: unknownId, title: 'X' }), 404, 'NOT_FOUND', { id: unknownId });
  const created = await create(t, tenant, { title: 'Bald weg' });
  assertOk(t, await call(tenant, 'delete', { id: created.id, deleted_by: 'user_1' }), 'delete');
  assertFailure(t, await call(tenant, 'update', { id: created.id, title: 'X' }), 404, 'NOT_FOUND', { id: created.id });
  t.match(await distributionRow(created.id), { title: 'Bald weg' });
});

// --- publish, unpublish ---

t.test('when a distribution without text or SEO metadata is published, then 409 PUBLISH_REQUIREMENTS_UNMET lists what is missing', async (t) => {
  const tenant = newTenant();
  const bare = await create(t, tenant, { title: 'Nackt' });
  assertFailure(t, await call(tenant, 'publish', { id: bare.id }), 409, 'PUBLISH_REQUIREMENTS_UNMET', {
    missing: ['description', 'seo.meta_title', 'seo.meta_description'],
  });
  const half = await create(t, tenant, { title: 'Halb', description: 'Text', seo: { meta_title: 'Titel', meta_description: '   ' } });
  assertFailure(t, await call(tenant, 'publish', { id: half.id }), 409, 'PUBLISH_REQUIREMENTS_UNMET', { missing: ['seo.meta_description'] });
  for (const id of [bare.id, half.id]) {
    t.match(await distributionRow(id), { visibility: 'private', published_at: null, row_version: 1 });
    t.strictSame((await outboxOf(id)).map((r) => r.event_type), ['distribution.created'], 'no published event');
  }
});

t.test('when a ready distribution is published, then it is public with distribution.published, and publishing again is 200 without an event', async (t) => {
  const tenant = newTenant();
  const created = await createPublishable(t, tenant, { target_group: ['employees'] });
  const reply = await call(tenant, 'publish', { id: created.id, expected_version: 1, correlation_id: 'req_publish' });
  assertOk(t, reply, 'publish');
  t.match(reply.body, { visibility: 'public', row_version: 2 });
  t.type(reply.body.published_at, 'string');
  t.equal(reply.body.published_at, reply.body.updated_at);
  const row = await distributionRow(created.id);
  t.equal(row.visibility, 'public');
  t.equal(row.published_at?.toISOString(), reply.body.published_at);

  const outbox = await outboxOf(created.id);
  t.strictSame(outbox.map((r) => r.event_type), ['distribution.created', 'distribution.published']);
  assertEnvelope(t, outbox[1], { type: 'distribution.published', tenant, subjectId: created.id, correlationId: 'req_publish' });
  t.strictSame(outbox[1]?.envelope.payload, {
    distribution_id: created.id,
    slug: created.slug,
    course_id: 'course_1',
    title: 'Bankwechsel',
    language: 'de',
    target_group: ['employees'],
    seo: SEO_READY,
    published_at: reply.body.published_at,
  });

  const again = await call(tenant, 'publish', { id: created.id });
  assertOk(t, again, 'publish');
  t.strictSame(again.body, reply.body, 'unchanged: same row_version and published_at');
  t.equal((await outboxOf(created.id)).length, 2, 'no second published event');
});

t.test('when a public distribution is unpublished with a reason, then it is private with distribution.unpublished, and unpublishing again is 200 without an event', async (t) => {
  const tenant = newTenant();
  const created = await createPublishable(t, tenant);
  const privateRepeat = await call(tenant, 'unpublish', { id: created.id, reason: 'never_published' });
  assertOk(t, privateRepeat, 'unpublish');
  t.strictSame(privateRepeat.body, created, 'a private one stays as it is');
  t.equal((await outboxOf(created.id)).length, 1, 'no event for a private one');

  assertOk(t, await call(tenant, 'publish', { id: created.id }), 'publish');
  const reply = await call(tenant, 'unpublish', { id: created.id, reason: 'content_revision_required' });
  assertOk(t, reply, 'unpublish');
  t.match(reply.body, { visibility: 'private', published_at: null, row_version: 3 });
  t.match(await distributionRow(created.id), { visibility: 'private', published_at: null, row_version: 3 });

  const outbox = await outboxOf(created.id);
  t.strictSame(outbox.map((r) => r.event_type), ['distribution.created', 'distribution.published', 'distribution.unpublished']);
  assertEnvelope(t, outbox[2], { type: 'distribution.unpublished', tenant, subjectId: created.id });
  t.strictSame(outbox[2]?.envelope.payload, {
    distribution_id: created.id,
    slug: created.slug,
    unpublished_at: reply.body.updated_at,
    reason: 'content_revision_required',
  });

  const again = await call(tenant, 'unpublish', { id: created.id, reason: 'content_revision_required' });
  assertOk(t, again, 'unpublish');
  t.strictSame(again.body, reply.body);
  t.equal((await outboxOf(created.id)).length, 3, 'no second unpublished event');
});

t.test('when publish or unpublish names an unknown distribution or a stale version, then 404 NOT_FOUND or 409 VERSION_CONFLICT', async (t) => {
  const tenant = newTenant();
  const unknownId = 'dist_01JCCCCCCCCCCCCCCCCCCCCCCC';
  assertFailure(t, await call(tenant, 'publish', { id: unknownId }), 404, 'NOT_FOUND', { id: unknownId });
  assertFailure(t, await call(tenant, 'unpublish', { id: unknownId, reason: 'gone' }), 404, 'NOT_FOUND', { id: unknownId });
  const created = await createPublishable(t, tenant);
  assertFailure(t, await call(tenant, 'publish', { id: created.id, expected_version: 2 }), 409, 'VERSION_CONFLICT', { expected_version: 2, row_version: 1 });
  assertOk(t, await call(tenant, 'publish', { id: created.id }), 'publish');
  assertFailure(t, await call(tenant, 'unpublish', { id: created.id, reason: 'x', expected_version: 1 }), 409, 'VERSION_CONFLICT', {
    expected_version: 1,
    row_version: 2,
  });
  t.match(await distributionRow(created.id), { visibility: 'public', row_version: 2 });
});

// --- bump_version ---

t.test('when the version is bumped twice, then it goes v1 -> v2 -> v3 with a version_bumped event carrying each changelog', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Versioniert' });
  const v2 = await call(tenant, 'bump_version', { id: created.id, changelog: '  Neue Kapitel  ', correlation_id: 'req_bump' });
  assertOk(t, v2, 'bump_version');
  t.match(v2.body, { version: 'v2', row_version: 2 });
  const v3 = await call(tenant, 'bump_version', { id: created.id, changelog: 'Quiz ergänzt', expected_version: 2 });
  assertOk(t, v3, 'bump_version');
  t.match(v3.body, { version: 'v3', row_version: 3 });
  t.match(await distributionRow(created.id), { version: 'v3', row_version: 3 });

  const outbox = await outboxOf(created.id);
  t.strictSame(outbox.map((r) => r.event_type), ['distribution.created', 'distribution.version_bumped', 'distribution.version_bumped']);
  assertEnvelope(t, outbox[1], { type: 'distribution.version_bumped', tenant, subjectId: created.id, correlationId: 'req_bump' });
  assertEnvelope(t, outbox[2], { type: 'distribution.version_bumped', tenant, subjectId: created.id });
  t.strictSame(outbox[1]?.envelope.payload, {
    distribution_id: created.id,
    slug: created.slug,
    old_version: 'v1',
    new_version: 'v2',
    bumped_at: v2.body.updated_at,
    changelog: 'Neue Kapitel',
  });
  t.match(outbox[2]?.envelope.payload, { old_version: 'v2', new_version: 'v3', changelog: 'Quiz ergänzt' });
  t.not(outbox[1]?.envelope.meta.causation_id, outbox[2]?.envelope.meta.causation_id, 'each command has its own id');
});

t.test('when a bump is repeated with the same idempotency key, then the first result comes back and only one event exists', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Einmal hoch' });
  const body = { id: created.id, changelog: 'Einmal', idempotency_key: 'bump-key-1' };
  const first = await call(tenant, 'bump_version', body);
  assertOk(t, first, 'bump_version');
  const second = await call(tenant, 'bump_version', body);
  assertOk(t, second, 'bump_version');
  t.strictSame(second.body, first.body, 'the same v2, not v3');
  t.match(await distributionRow(created.id), { version: 'v2', row_version: 2 });
  t.strictSame((await outboxOf(created.id)).map((r) => r.event_type), ['distribution.created', 'distribution.version_bumped']);

  const reused = await call(tenant, 'bump_version', { id: created.id, changelog: 'Anders', idempotency_key: 'bump-key-1' });
  assertFailure(t, reused, 409, 'IDEMPOTENCY_KEY_REUSED');
  t.match(await distributionRow(created.id), { version: 'v2' });
});

t.test('when a bump has a blank changelog, an unknown id or a stale version, then 400, 404 or 409 and nothing changes', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Nicht hoch' });
  assertFailure(t, await call(tenant, 'bump_version', { id: created.id, changelog: '   ' }), 400, 'VALIDATION_FAILED', [
    { path: '/changelog', reason: 'must not be blank' },
  ]);
  const unknownId = 'dist_01JDDDDDDDDDDDDDDDDDDDDDDD';
  assertFailure(t, await call(tenant, 'bump_version', { id: unknownId, changelog: 'x' }), 404, 'NOT_FOUND', { id: unknownId });
  assertFailure(t, await call(tenant, 'bump_version', { id: created.id, changelog: 'x', expected_version: 3 }), 409, 'VERSION_CONFLICT', {
    expected_version: 3,
    row_version: 1,
  });
  t.match(await distributionRow(created.id), { version: 'v1', row_version: 1 });
  t.equal((await outboxOf(created.id)).length, 1);
});

// --- create_micro_niche_variant ---

t.test('when a variant is derived, then the child is derived_from the parent and distribution.created then distribution.micro_niche_created are written', async (t) => {
  const tenant = newTenant();
  const parent = await createPublishable(t, tenant, { title: 'Geld anlegen', target_group: ['private_individuals'], language: 'de' });
  const reply = await call(tenant, 'create_micro_niche_variant', { parent_id: parent.id, target_group: ['students'], correlation_id: 'req_variant' });
  assertOk(t, reply, 'create_micro_niche_variant');
  const child = reply.body;
  t.not(child.id, parent.id);
  t.match(child, {
    tenant_id: tenant,
    course_id: parent.course_id,
    language: parent.language,
    title: parent.title,
    description: parent.description,
    target_group: ['students'],
    derived_from: parent.id,
    visibility: 'private',
    version: 'v1',
    row_version: 1,
    slug: 'geld-anlegen-students',
  });
  t.strictSame(child.seo, parent.seo, 'content copied from the parent');
  t.strictSame(child.cta, parent.cta);
  t.match(await distributionRow(child.id), { derived_from: parent.id, tenant_id: tenant });

  const outbox = await outboxOf(child.id);
  t.strictSame(outbox.map((r) => r.event_type), ['distribution.created', 'distribution.micro_niche_created'], 'in that order');
  assertEnvelope(t, outbox[0], { type: 'distribution.created', tenant, subjectId: child.id, correlationId: 'req_variant' });
  assertEnvelope(t, outbox[1], { type: 'distribution.micro_niche_created', tenant, subjectId: child.id, correlationId: 'req_variant' });
  t.equal(outbox[0]?.envelope.meta.causation_id, outbox[1]?.envelope.meta.causation_id, 'both caused by the same command');
  t.match(outbox[0]?.envelope.payload, { distribution_id: child.id, derived_from: parent.id, target_group: ['students'] });
  t.strictSame(outbox[1]?.envelope.payload, {
    child_distribution_id: child.id,
    parent_distribution_id: parent.id,
    parent_slug: parent.slug,
    child_slug: child.slug,
    target_group_override: ['students'],
    title_override: null,
    created_at: child.created_at,
  });
  t.strictSame((await outboxOf(parent.id)).map((r) => r.event_type), ['distribution.created'], 'the parent is not changed');

  const titled = await call(tenant, 'create_micro_niche_variant', { parent_id: parent.id, target_group: ['employees'], title: 'Geld für Angestellte' });
  assertOk(t, titled, 'create_micro_niche_variant');
  t.match(titled.body, { title: 'Geld für Angestellte', slug: 'geld-fuer-angestellte', derived_from: parent.id });
  const titledEvents = await outboxOf(titled.body.id);
  t.equal(titledEvents[1]?.envelope.payload.title_override, 'Geld für Angestellte');
});

t.test('when a variant is derived from a variant, a deleted parent or an unknown parent, then 409 VARIANT_OF_VARIANT, 409 PARENT_DELETED or 404 NOT_FOUND', async (t) => {
  const tenant = newTenant();
  const parent = await create(t, tenant, { title: 'Wurzel' });
  const variant = await call(tenant, 'create_micro_niche_variant', { parent_id: parent.id, target_group: ['students'] });
  assertOk(t, variant, 'create_micro_niche_variant');
  const before = await countRows('distribution where tenant_id = $1', [tenant]);
  const eventsBefore = (await outboxOfTenant(tenant)).length;

  assertFailure(t, await call(tenant, 'create_micro_niche_variant', { parent_id: variant.body.id, target_group: ['managers'] }), 409, 'VARIANT_OF_VARIANT');

  const doomed = await create(t, tenant, { title: 'Gelöscht' });
  assertOk(t, await call(tenant, 'delete', { id: doomed.id, deleted_by: 'user_1' }), 'delete');
  assertFailure(t, await call(tenant, 'create_micro_niche_variant', { parent_id: doomed.id, target_group: ['managers'] }), 409, 'PARENT_DELETED');

  const unknownId = 'dist_01JEEEEEEEEEEEEEEEEEEEEEEE';
  assertFailure(t, await call(tenant, 'create_micro_niche_variant', { parent_id: unknownId, target_group: ['managers'] }), 404, 'NOT_FOUND', { id: unknownId });

  assertFailure(
    t,
    await call(tenant, 'create_micro_niche_variant', { parent_id: parent.id, target_group: ['managers'], slug: variant.body.slug }),
    409,
    'SLUG_TAKEN',
    { slug: variant.body.slug },
  );

  t.equal(await countRows('distribution where tenant_id = $1', [tenant]), before + 1, 'only the deleted parent was added');
  t.equal((await outboxOfTenant(tenant)).length, eventsBefore + 2, 'only the created and deleted events of the doomed parent');
});

// --- delete ---

t.test('when a distribution is deleted, then it is gone for the API, its row is kept for audit and its slug can be reused', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Vergänglich', course_id: 'course_del' });
  const reply = await call(tenant, 'delete', { id: created.id, deleted_by: 'user_42', expected_version: 1, correlation_id: 'req_delete' });
  assertOk(t, reply, 'delete');
  t.strictSame(reply.body.deleted_ids, [created.id]);

  assertFailure(t, await call(tenant, 'get', { id: created.id }), 404, 'NOT_FOUND', { id: created.id });
  const row = await distributionRow(created.id);
  t.equal(row.deleted_by, 'user_42', 'who deleted it is kept');
  t.equal(row.deleted_at?.toISOString(), reply.body.deleted_at, 'when it was deleted is kept');
  t.equal(row.row_version, 2);

  const outbox = await outboxOf(created.id);
  t.strictSame(outbox.map((r) => r.event_type), ['distribution.created', 'distribution.deleted']);
  assertEnvelope(t, outbox[1], { type: 'distribution.deleted', tenant, subjectId: created.id, correlationId: 'req_delete' });
  t.strictSame(outbox[1]?.envelope.payload, {
    distribution_id: created.id,
    slug: created.slug,
    course_id: 'course_del',
    deleted_at: reply.body.deleted_at,
    deleted_by: 'user_42',
  });

  const reborn = await call(tenant, 'create', { course_id: 'course_del', title: 'Vergänglich', language: 'de', slug: created.slug });
  assertOk(t, reborn, 'create');
  t.equal(reborn.body.slug, created.slug, 'the explicit slug is free again');
  const generated = await create(t, tenant, { title: 'Vergänglich' });
  t.equal(generated.slug, 'vergaenglich-2', 'the deleted row does not count against generated slugs, the live one does');

  assertFailure(t, await call(tenant, 'delete', { id: created.id, deleted_by: 'user_42' }), 404, 'NOT_FOUND', { id: created.id });
  t.equal((await outboxOf(created.id)).length, 2, 'deleting twice writes no second event');
});

t.test('when delete names an unknown distribution or a stale version, then 404 NOT_FOUND or 409 VERSION_CONFLICT', async (t) => {
  const tenant = newTenant();
  const unknownId = 'dist_01JFFFFFFFFFFFFFFFFFFFFFFF';
  assertFailure(t, await call(tenant, 'delete', { id: unknownId, deleted_by: 'user_1' }), 404, 'NOT_FOUND', { id: unknownId });
  const created = await create(t, tenant, { title: 'Bleibt' });
  assertFailure(t, await call(tenant, 'delete', { id: created.id, deleted_by: 'user_1', expected_version: 9 }), 409, 'VERSION_CONFLICT', {
    expected_version: 9,
    row_version: 1,
  });
  t.match(await distributionRow(created.id), { deleted_at: null, deleted_by: null });
});

t.test('when a parent with live variants is deleted, then 409 HAS_VARIANTS names them, and with cascade the parent and then each variant is deleted with its own event', async (t) => {
  const tenant = newTenant();
  const parent = await create(t, tenant, { title: 'Eltern' });
  const variantIds: string[] = [];
  for (const group of ['students', 'employees', 'retirees']) {
    const reply = await call(tenant, 'create_micro_niche_variant', { parent_id: parent.id, target_group: [group] });
    assertOk(t, reply, 'create_micro_niche_variant');
    variantIds.push(reply.body.id);
  }
  // A variant deleted on its own before is neither blocking nor deleted again.
  const alreadyGone = variantIds.pop()!;
  assertOk(t, await call(tenant, 'delete', { id: alreadyGone, deleted_by: 'user_1' }), 'delete');
  const live = [...variantIds].sort();

  const refused = await call(tenant, 'delete', { id: parent.id, deleted_by: 'user_2' });
  assertFailure(t, refused, 409, 'HAS_VARIANTS', { variant_ids: live });
  for (const id of [parent.id, ...live]) t.match(await distributionRow(id), { deleted_at: null }, 'nothing deleted');

  const cascaded = await call(tenant, 'delete', { id: parent.id, deleted_by: 'user_2', cascade: true, correlation_id: 'req_cascade' });
  assertOk(t, cascaded, 'delete');
  t.strictSame(cascaded.body.deleted_ids, [parent.id, ...live], 'parent first, then the variants');
  for (const id of [parent.id, ...live]) {
    const row = await distributionRow(id);
    t.equal(row.deleted_by, 'user_2');
    t.equal(row.deleted_at?.toISOString(), cascaded.body.deleted_at);
    assertFailure(t, await call(tenant, 'get', { id }), 404, 'NOT_FOUND', { id });
  }
  t.equal((await distributionRow(alreadyGone)).deleted_by, 'user_1', 'the earlier deletion is left as it was');

  const deletedEvents = (await outboxOfTenant(tenant)).filter((r) => r.event_type === 'distribution.deleted' && r.aggregate_id !== alreadyGone);
  t.strictSame(deletedEvents.map((r) => r.aggregate_id), [parent.id, ...live], 'one distribution.deleted per distribution, parent first');
  for (const row of deletedEvents) {
    assertEnvelope(t, row, { type: 'distribution.deleted', tenant, subjectId: row.aggregate_id, correlationId: 'req_cascade' });
    t.equal(row.envelope.payload.deleted_by, 'user_2');
  }
});

// --- log_view, track_enrollment_click ---

t.test('when views are logged, then each reply has the committed total and distribution.viewed carries the new total', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Beliebt' });
  const counts: number[] = [];
  for (const referrer of ['organic_search', 'social', undefined]) {
    const reply = await call(tenant, 'log_view', { id: created.id, ...(referrer && { referrer_category: referrer }) });
    assertOk(t, reply, 'log_view');
    t.equal(reply.body.distribution_id, created.id);
    counts.push(reply.body.view_count);
  }
  t.strictSame(counts, [1, 2, 3], 'one more each time');
  t.match(await distributionRow(created.id), { view_count: 3, enrollment_count: 0, row_version: 1 }, 'counting leaves row_version alone');

  const viewed = (await outboxOf(created.id)).filter((r) => r.event_type === 'distribution.viewed');
  t.strictSame(viewed.map((r) => r.envelope.payload.view_count), [1, 2, 3], 'one aggregate event per flush, each with the total');
  t.strictSame(viewed.map((r) => r.envelope.payload.referrer_category), ['organic_search', 'social', 'unknown']);
  for (const row of viewed) {
    assertEnvelope(t, row, { type: 'distribution.viewed', tenant, subjectId: created.id });
    t.match(row.envelope.payload, { distribution_id: created.id, slug: created.slug });
  }

  const got = await call(tenant, 'get', { id: created.id });
  t.equal(got.body.view_count, 3);
});

t.test('when many views arrive at once, then every reply gets a distinct total and the last event carries the final total', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Ansturm' });
  const replies = await Promise.all(Array.from({ length: 12 }, () => call(tenant, 'log_view', { id: created.id, referrer_category: 'email' })));
  for (const reply of replies) t.equal(reply.status, 200);
  t.strictSame(replies.map((r) => r.body.view_count).sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i + 1), 'totals 1..12, each once');
  t.equal((await distributionRow(created.id)).view_count, 12);

  const viewed = (await outboxOf(created.id)).filter((r) => r.event_type === 'distribution.viewed');
  t.ok(viewed.length >= 1 && viewed.length <= 12, `between 1 and 12 aggregate events (${viewed.length})`);
  const totals = viewed.map((r) => r.envelope.payload.view_count as number);
  t.strictSame(totals, [...totals].sort((a, b) => a - b), 'totals only grow');
  t.equal(totals.at(-1), 12, 'the last event carries the final total');
  for (const row of viewed) t.ok(validator.validate('distribution.viewed', row.envelope).ok);
});

t.test('when enrollment clicks are tracked, then each reply has the committed total and distribution.enrollment_clicked carries the new total', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Klickbar' });
  const first = await call(tenant, 'track_enrollment_click', { id: created.id, cta_type: 'banner' });
  assertOk(t, first, 'track_enrollment_click');
  t.strictSame(first.body, { distribution_id: created.id, enrollment_count: 1 });
  const second = await call(tenant, 'track_enrollment_click', { id: created.id });
  assertOk(t, second, 'track_enrollment_click');
  t.strictSame(second.body, { distribution_id: created.id, enrollment_count: 2 });
  t.match(await distributionRow(created.id), { enrollment_count: 2, view_count: 0, row_version: 1 });

  const clicked = (await outboxOf(created.id)).filter((r) => r.event_type === 'distribution.enrollment_clicked');
  t.equal(clicked.length, 2);
  for (const row of clicked) assertEnvelope(t, row, { type: 'distribution.enrollment_clicked', tenant, subjectId: created.id });
  t.match(clicked[0]?.envelope.payload, { distribution_id: created.id, slug: created.slug, enrollment_count: 1, cta_type: 'banner' });
  t.match(clicked[1]?.envelope.payload, { enrollment_count: 2, cta_type: 'primary_button' });
});

t.test('when a view or click names an unknown or deleted distribution, then 404 NOT_FOUND and nothing is counted', async (t) => {
  const tenant = newTenant();
  const unknownId = 'dist_01JGGGGGGGGGGGGGGGGGGGGGGG';
  assertFailure(t, await call(tenant, 'log_view', { id: unknownId }), 404, 'NOT_FOUND', { id: unknownId });
  assertFailure(t, await call(tenant, 'track_enrollment_click', { id: unknownId }), 404, 'NOT_FOUND', { id: unknownId });
  const created = await create(t, tenant, { title: 'Vorbei' });
  assertOk(t, await call(tenant, 'delete', { id: created.id, deleted_by: 'user_1' }), 'delete');
  assertFailure(t, await call(tenant, 'log_view', { id: created.id }), 404, 'NOT_FOUND', { id: created.id });
  assertFailure(t, await call(tenant, 'track_enrollment_click', { id: created.id }), 404, 'NOT_FOUND', { id: created.id });
  t.match(await distributionRow(created.id), { view_count: 0, enrollment_count: 0 });
  t.strictSame((await outboxOf(created.id)).map((r) => r.event_type), ['distribution.created', 'distribution.deleted'], 'no counting event');
});

t.test('when a single view carries a correlation id, then its distribution.viewed event carries that correlation id', async (t) => {
  // CONTRACT.md: meta.correlation_id comes from the request that caused the event. A flush that holds one request
  // (or only requests of one correlation id) has an unambiguous cause.
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Korreliert' });
  assertOk(t, await call(tenant, 'log_view', { id: created.id, correlation_id: 'req_view_1' }), 'log_view');
  assertOk(t, await call(tenant, 'track_enrollment_click', { id: created.id, correlation_id: 'req_click_1' }), 'track_enrollment_click');
  const outbox = await outboxOf(created.id);
  const viewed = outbox.find((r) => r.event_type === 'distribution.viewed');
  const clicked = outbox.find((r) => r.event_type === 'distribution.enrollment_clicked');
  t.equal(viewed?.envelope.meta.correlation_id, 'req_view_1', 'distribution.viewed');
  t.equal(clicked?.envelope.meta.correlation_id, 'req_click_1', 'distribution.enrollment_clicked');
});
