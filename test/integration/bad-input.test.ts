/**
 * Requests the service must refuse before doing anything, over real NATS and PostgreSQL: bytes that are not JSON,
 * JSON that is not an object, bodies against their schema, unknown operations, bad tenant ids and bodies over the
 * size limit. Each gets its exact code, the services-framework headers and `{error: {code, message, details}}`;
 * none writes a row, and the service keeps serving afterwards.
 */
import t, { type Test } from 'tap';
import { createContractValidator } from '../../src/contracts/index.js';
import { commandSubject } from '../../src/messaging/subjects.js';
import { startTestApp, type Reply } from '../helpers/app.js';

const { call, db, nc, namespace } = await startTestApp(t);
const validator = createContractValidator();

const TENANT = 'bad_input_tenant';
const SOME_ID = 'dist_01JAAAAAAAAAAAAAAAAAAAAAAA';
const DEFAULT_LIMIT = 64 * 1024;

/** A refusal: status and code, both headers, a body valid against error.schema.json. */
function assertFailure(t: Test, reply: Reply<any>, status: number, code: string): void {
  t.equal(reply.status, status, `status ${status} (got ${JSON.stringify(reply.body).slice(0, 300)})`);
  t.equal(reply.headers['Nats-Service-Error-Code'], String(status), 'Nats-Service-Error-Code header');
  t.equal(reply.body?.error?.code, code, `code ${code}`);
  t.type(reply.body?.error?.message, 'string');
  t.not(reply.body?.error?.message, '');
  t.equal(reply.headers['Nats-Service-Error'], reply.body?.error?.message, 'Nats-Service-Error header carries the message');
  const checked = validator.validate('error', reply.body);
  t.ok(checked.ok, 'the body matches error.schema.json', { issues: checked.ok ? [] : checked.issues });
}

/** A refusal whose details are the list of issues, each a JSON pointer and a reason, which the message repeats. */
function assertIssues(t: Test, reply: Reply<any>, status: number, code: string, expected: Array<{ path: string; reason: string | RegExp }>): void {
  assertFailure(t, reply, status, code);
  const details = reply.body?.error?.details as Array<{ path: string; reason: string }> | undefined;
  t.ok(Array.isArray(details), 'details is a list of issues');
  if (!Array.isArray(details)) return;
  for (const issue of details) {
    t.strictSame(Object.keys(issue).sort(), ['path', 'reason'], 'each issue is exactly {path, reason}');
    t.type(issue.reason, 'string');
    t.ok(reply.body.error.message.includes(`${issue.path || '(root)'}: ${issue.reason}`), `the message names ${issue.path || '(root)'}`);
  }
  t.equal(details.length, expected.length, `${expected.length} issue(s): ${JSON.stringify(details)}`);
  for (const want of expected) {
    const found = details.some((issue) => issue.path === want.path && (typeof want.reason === 'string' ? issue.reason === want.reason : want.reason.test(issue.reason)));
    t.ok(found, `an issue at "${want.path}": ${String(want.reason)}`);
  }
}

t.test('when the body is malformed JSON, then 400 BAD_REQUEST says it is not JSON', async (t) => {
  for (const operation of ['create', 'get', 'update', 'delete', 'log_view']) {
    const reply = await call(TENANT, operation, '{"id":', { raw: true });
    assertIssues(t, reply, 400, 'BAD_REQUEST', [{ path: '', reason: /^body is not valid JSON: / }]);
  }
  const trailing = await call(TENANT, 'get', `{"id":"${SOME_ID}"} x`, { raw: true });
  assertIssues(t, trailing, 400, 'BAD_REQUEST', [{ path: '', reason: /^body is not valid JSON: / }]);
});

t.test('when the body is not UTF-8, then 400 BAD_REQUEST', async (t) => {
  const bytes = new Uint8Array([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // {"id":"\xff\xfe"}
  const msg = await nc.request(commandSubject(namespace.id, TENANT, 'get'), bytes, { timeout: 5000 });
  const headers: Record<string, string> = {};
  for (const [k, v] of msg.headers ?? []) headers[k] = v.join(', ');
  const reply: Reply<any> = { status: Number(msg.headers?.get('Nats-Service-Error-Code') || 200), body: msg.json(), headers };
  assertIssues(t, reply, 400, 'BAD_REQUEST', [{ path: '', reason: /^body is not valid JSON: / }]);
});

t.test('when the body is JSON but not an object, then 400 BAD_REQUEST says what it got', async (t) => {
  for (const [raw, got] of [
    ['[1]', 'an array'],
    ['"x"', 'a string'],
    ['null', 'null'],
    ['42', 'a number'],
    ['true', 'a boolean'],
  ] as const) {
    const reply = await call(TENANT, 'create', raw, { raw: true });
    assertIssues(t, reply, 400, 'BAD_REQUEST', [{ path: '', reason: `body must be a JSON object, got ${got}` }]);
  }
});

t.test('when the body is empty, then 400 BAD_REQUEST', async (t) => {
  const viaHelper = await call(TENANT, 'list', '', { raw: true });
  assertIssues(t, viaHelper, 400, 'BAD_REQUEST', [{ path: '', reason: /^body is not valid JSON: / }]);
  // A request with no payload at all, as `nats req <subject> ''` sends it.
  const msg = await nc.request(commandSubject(namespace.id, TENANT, 'create'), undefined, { timeout: 5000 });
  t.equal(msg.headers?.get('Nats-Service-Error-Code'), '400');
  t.match(msg.json(), { error: { code: 'BAD_REQUEST', details: [{ path: '', reason: /^body is not valid JSON: / }] } });
  const blank = await call(TENANT, 'get', '  \n ', { raw: true });
  assertIssues(t, blank, 400, 'BAD_REQUEST', [{ path: '', reason: /^body is not valid JSON: / }]);
});

t.test('when fields have the wrong type, then 400 VALIDATION_FAILED names each field', async (t) => {
  assertIssues(t, await call(TENANT, 'create', { course_id: 1, title: 'Titel', language: 'de' }), 400, 'VALIDATION_FAILED', [{ path: '/course_id', reason: 'must be string' }]);
  assertIssues(t, await call(TENANT, 'create', { course_id: 'c', title: ['Titel'], language: 'de', target_group: 'employees' }), 400, 'VALIDATION_FAILED', [
    { path: '/title', reason: 'must be string' },
    { path: '/target_group', reason: 'must be array' },
  ]);
  assertIssues(t, await call(TENANT, 'list', { limit: '5' }), 400, 'VALIDATION_FAILED', [{ path: '/limit', reason: 'must be integer' }]);
  assertIssues(t, await call(TENANT, 'delete', { id: SOME_ID, deleted_by: 'u1', cascade: 'yes' }), 400, 'VALIDATION_FAILED', [{ path: '/cascade', reason: 'must be boolean' }]);
  assertIssues(t, await call(TENANT, 'update', { id: SOME_ID, expected_version: 1.5 }), 400, 'VALIDATION_FAILED', [{ path: '/expected_version', reason: 'must be integer' }]);
  assertIssues(t, await call(TENANT, 'log_view', { id: SOME_ID, referrer_category: 'https://evil.example' }), 400, 'VALIDATION_FAILED', [
    { path: '/referrer_category', reason: /^must be one of "organic_search"/ },
  ]);
});

t.test('when fields break their format, then 400 VALIDATION_FAILED names each field', async (t) => {
  assertIssues(t, await call(TENANT, 'get', { id: '42' }), 400, 'VALIDATION_FAILED', [{ path: '/id', reason: /^must match pattern/ }]);
  assertIssues(t, await call(TENANT, 'create', { course_id: 'c', title: '', language: 'German', slug: 'Not A Slug' }), 400, 'VALIDATION_FAILED', [
    { path: '/title', reason: /fewer than 1 character/ },
    { path: '/language', reason: /^must match pattern/ },
    { path: '/slug', reason: /^must match pattern/ },
  ]);
  assertIssues(t, await call(TENANT, 'create_micro_niche_variant', { parent_id: SOME_ID, target_group: [] }), 400, 'VALIDATION_FAILED', [
    { path: '/target_group', reason: /fewer than 1 item/ },
  ]);
});

t.test('when a body has unknown fields, then 400 VALIDATION_FAILED names each of them', async (t) => {
  assertIssues(t, await call(TENANT, 'create', { course_id: 'c', title: 'T', language: 'de', colour: 'red', tenant_id: 'other' }), 400, 'VALIDATION_FAILED', [
    { path: '', reason: 'unknown field "colour"' },
    { path: '', reason: 'unknown field "tenant_id"' },
  ]);
  assertIssues(t, await call(TENANT, 'get', { id: SOME_ID, include_deleted: true }), 400, 'VALIDATION_FAILED', [{ path: '', reason: 'unknown field "include_deleted"' }]);
  assertIssues(t, await call(TENANT, 'update', { id: SOME_ID, seo: { meta_title: 'T', robots: 'noindex' } }), 400, 'VALIDATION_FAILED', [
    { path: '/seo', reason: 'unknown field "robots"' },
  ]);
  // Fields the API never lets a caller set.
  assertIssues(t, await call(TENANT, 'update', { id: SOME_ID, view_count: 1000, staging_url: 'https://x.example' }), 400, 'VALIDATION_FAILED', [
    { path: '', reason: 'unknown field "view_count"' },
    { path: '', reason: 'unknown field "staging_url"' },
  ]);
});

t.test('when required fields are missing, then 400 VALIDATION_FAILED names every one', async (t) => {
  assertIssues(t, await call(TENANT, 'create', {}), 400, 'VALIDATION_FAILED', [
    { path: '', reason: 'missing required field "course_id"' },
    { path: '', reason: 'missing required field "title"' },
    { path: '', reason: 'missing required field "language"' },
  ]);
  assertIssues(t, await call(TENANT, 'delete', { id: SOME_ID }), 400, 'VALIDATION_FAILED', [{ path: '', reason: 'missing required field "deleted_by"' }]);
  assertIssues(t, await call(TENANT, 'unpublish', { id: SOME_ID }), 400, 'VALIDATION_FAILED', [{ path: '', reason: 'missing required field "reason"' }]);
  assertIssues(t, await call(TENANT, 'get_by_slug', {}), 400, 'VALIDATION_FAILED', [{ path: '', reason: 'missing required field "slug"' }]);
  assertIssues(t, await call(TENANT, 'bump_version', { id: SOME_ID }), 400, 'VALIDATION_FAILED', [{ path: '', reason: 'missing required field "changelog"' }]);
  assertIssues(t, await call(TENANT, 'create_micro_niche_variant', {}), 400, 'VALIDATION_FAILED', [
    { path: '', reason: 'missing required field "parent_id"' },
    { path: '', reason: 'missing required field "target_group"' },
  ]);
});

t.test('when the operation does not exist, then 400 UNKNOWN_OPERATION names the operations there are', async (t) => {
  for (const operation of ['nope', 'Create', 'drop_table']) {
    const reply = await call(TENANT, operation, { id: SOME_ID });
    assertFailure(t, reply, 400, 'UNKNOWN_OPERATION');
    t.ok(reply.body.error.message.startsWith(`unknown operation "${operation}"`), 'the message names the operation');
    t.equal(reply.body.error.details, undefined, 'no details');
  }
  const malformed = await call(TENANT, 'nope', '{"id":', { raw: true });
  assertFailure(t, malformed, 400, 'UNKNOWN_OPERATION');
});

t.test('when the tenant id is not a valid one, then 400 BAD_TENANT before the body is even read', async (t) => {
  const tooLong = `t${'x'.repeat(63)}`;
  for (const tenant of ['Brain', 'brainProd', '-x', '_x', 'ops', 'BRAIN_PROD', tooLong]) {
    const reply = await call(tenant, 'create', { course_id: 'c', title: 'T', language: 'de' });
    assertFailure(t, reply, 400, 'BAD_TENANT');
    t.ok(reply.body.error.message.startsWith(`"${tenant}" is not a valid tenant id`), `the message names "${tenant}"`);
    t.equal(reply.body.error.details, undefined);
  }
  assertFailure(t, await call('Brain', 'get', '{"id":', { raw: true }), 400, 'BAD_TENANT');
  assertFailure(t, await call('ops', 'list', {}), 400, 'BAD_TENANT');
  assertFailure(t, await call('-x', 'delete', { id: SOME_ID, deleted_by: 'u' }), 400, 'BAD_TENANT');
});

t.test('when the body is over the size limit, then 413 PAYLOAD_TOO_LARGE; a body at the limit is read', async (t) => {
  const huge = JSON.stringify({ course_id: 'c', title: 'T', language: 'de', description: 'x'.repeat(70 * 1024) });
  const reply = await call(TENANT, 'create', huge, { raw: true });
  assertIssues(t, reply, 413, 'PAYLOAD_TOO_LARGE', [{ path: '', reason: `body is ${Buffer.byteLength(huge)} bytes, over the limit of ${DEFAULT_LIMIT}` }]);

  // Exactly at the limit: read and validated (an unknown field here), not refused for its size.
  const pad = (bytes: number) => {
    const skeleton = JSON.stringify({ id: SOME_ID, pad: '' });
    return JSON.stringify({ id: SOME_ID, pad: 'p'.repeat(bytes - Buffer.byteLength(skeleton)) });
  };
  const atLimit = pad(DEFAULT_LIMIT);
  t.equal(Buffer.byteLength(atLimit), DEFAULT_LIMIT);
  assertIssues(t, await call(TENANT, 'get', atLimit, { raw: true }), 400, 'VALIDATION_FAILED', [{ path: '', reason: 'unknown field "pad"' }]);
  const overByOne = pad(DEFAULT_LIMIT + 1);
  assertIssues(t, await call(TENANT, 'get', overByOne, { raw: true }), 413, 'PAYLOAD_TOO_LARGE', [
    { path: '', reason: `body is ${DEFAULT_LIMIT + 1} bytes, over the limit of ${DEFAULT_LIMIT}` },
  ]);
  // Multi-byte characters count as bytes, not as characters.
  const umlauts = JSON.stringify({ id: SOME_ID, pad: 'ä'.repeat(DEFAULT_LIMIT / 2) });
  assertFailure(t, await call(TENANT, 'get', umlauts, { raw: true }), 413, 'PAYLOAD_TOO_LARGE');
});

t.test('when every refused request is done, then none wrote anything and the service still serves a normal create and get', async (t) => {
  for (const table of ['distribution', 'outbox_event', 'idempotency_record']) {
    const result = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
    t.equal(result.rows[0]?.n, 0, `no ${table} row was written`);
  }

  const created = await call(TENANT, 'create', { course_id: 'course_ok', title: 'Läuft noch', language: 'de' });
  t.equal(created.status, 200, `create still works (got ${JSON.stringify(created.body)})`);
  t.ok(validator.validate('op.create.response', created.body).ok);
  t.equal(created.body.slug, 'laeuft-noch');
  const got = await call(TENANT, 'get', { id: created.body.id });
  t.equal(got.status, 200);
  t.strictSame(got.body, created.body);

  // The longest valid tenant id and one of a single character are accepted.
  const longest = `t${'x'.repeat(62)}`;
  const atMaxLength = await call(longest, 'create', { course_id: 'course_ok', title: 'Lang', language: 'de' });
  t.equal(atMaxLength.status, 200, '63 characters is a valid tenant id');
  t.equal(atMaxLength.body.tenant_id, longest);
  const single = await call('7', 'list', {});
  t.equal(single.status, 200, '"7" is a valid tenant id');

  const rows = await db.query<{ tenant_id: string }>(`select tenant_id from distribution order by tenant_id`);
  t.strictSame(rows.rows.map((r) => r.tenant_id).sort(), [TENANT, longest].sort(), 'only the two accepted creates wrote rows');
});
