/**
 * Tenant isolation over real NATS and PostgreSQL: tenant A can neither read nor change tenant B's distributions,
 * and cannot even tell them from ids that do not exist: every attempt gets exactly the 404 reply of a missing
 * distribution (same status, headers and body once the id is swapped). B's rows, outbox and idempotency records
 * are byte-for-byte the same afterwards.
 */
import t, { type Test } from 'tap';
import { createContractValidator } from '../../src/contracts/index.js';
import { startTestApp, type Reply } from '../helpers/app.js';

const { call, db } = await startTestApp(t);
const validator = createContractValidator();

const A = 'tenant_a';
const B = 'tenant_b';
/** The same length as a real id, so messages that name it have the same shape. */
const MISSING_ID = 'dist_01JZZZZZZZZZZZZZZZZZZZZZZZ';
const SEO_READY = { meta_title: 'Sparen', meta_description: 'Wie man spart.' };

async function setup(tenant: string, body: Record<string, unknown>): Promise<any> {
  const reply = await call(tenant, 'create', { course_id: 'course_shared', language: 'de', ...body });
  if (reply.status !== 200) throw new Error(`setup create failed: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

// Tenant B: a public root distribution with one variant; tenant A: one distribution of the same course.
const bRoot = await setup(B, { title: 'Nur für B', slug: 'only-in-b', description: 'Text', seo: SEO_READY, target_group: ['employees'], idempotency_key: 'shared-key' });
const bPublished = await call(B, 'publish', { id: bRoot.id });
if (bPublished.status !== 200) throw new Error(`setup publish failed: ${JSON.stringify(bPublished.body)}`);
const bVariantReply = await call(B, 'create_micro_niche_variant', { parent_id: bRoot.id, target_group: ['students'] });
if (bVariantReply.status !== 200) throw new Error(`setup variant failed: ${JSON.stringify(bVariantReply.body)}`);
const bVariant = bVariantReply.body;
const aOwn = await setup(A, { title: 'Nur für A', target_group: ['employees'] });

/** Everything tenant B has in the database, as text, so any change at all shows. */
async function snapshotOfB(): Promise<Record<string, string[]>> {
  const rows = async (sql: string) => (await db.query<{ j: string }>(sql, [B])).rows.map((r) => r.j);
  return {
    distributions: await rows(`select row_to_json(d)::text as j from distribution d where tenant_id = $1 order by id`),
    outbox: await rows(`select row_to_json(o)::text as j from outbox_event o where tenant_id = $1 order by id`),
    idempotency: await rows(`select row_to_json(i)::text as j from idempotency_record i where tenant_id = $1 order by key`),
  };
}

/** Tenant A's outbox events (it must get none from its refused attempts). */
async function outboxTypesOfA(): Promise<string[]> {
  const result = await db.query<{ event_type: string; aggregate_id: string }>(`select event_type, aggregate_id from outbox_event where tenant_id = $1 order by id`, [A]);
  return result.rows.map((r) => `${r.event_type} ${r.aggregate_id}`);
}

/** A reply with every occurrence of `value` replaced, to compare two replies that differ only in the id asked for. */
function withoutValue(reply: Reply<any>, value: string, placeholder: string): unknown {
  return JSON.parse(JSON.stringify({ status: reply.status, headers: reply.headers, body: reply.body }).replaceAll(value, placeholder));
}

function assertNotFound(t: Test, reply: Reply<any>): void {
  t.equal(reply.status, 404, `404 (got ${JSON.stringify(reply.body)})`);
  t.equal(reply.headers['Nats-Service-Error-Code'], '404');
  t.equal(reply.body?.error?.code, 'NOT_FOUND');
  t.equal(reply.headers['Nats-Service-Error'], reply.body?.error?.message);
  t.ok(validator.validate('error', reply.body).ok, 'the body matches error.schema.json');
}

/**
 * Sends the same request once for B's distribution and once for an id that exists nowhere, as tenant A, and
 * checks that both replies are the same 404 apart from the id, and that B's data did not change.
 */
async function assertRefusedLikeMissing(t: Test, operation: string, bodyFor: (id: string) => Record<string, unknown>, targetId = bRoot.id): Promise<void> {
  const before = await snapshotOfB();
  const aEventsBefore = await outboxTypesOfA();

  const foreign = await call(A, operation, bodyFor(targetId));
  const missing = await call(A, operation, bodyFor(MISSING_ID));
  assertNotFound(t, foreign);
  assertNotFound(t, missing);
  t.strictSame(foreign.body.error.details, { id: targetId }, 'details name only the id that was asked for');
  t.strictSame(withoutValue(foreign, targetId, '<id>'), withoutValue(missing, MISSING_ID, '<id>'), "B's distribution gets exactly the reply of a missing one");

  t.strictSame(await snapshotOfB(), before, "B's rows, outbox and idempotency records are unchanged");
  t.strictSame(await outboxTypesOfA(), aEventsBefore, 'no event was written for A either');
  const stillThere = await call(B, 'get', { id: targetId });
  t.equal(stillThere.status, 200, 'B still reads its distribution');
}

t.test("when tenant A gets B's distribution by id, then it gets the 404 of an id that does not exist", async (t) => {
  await assertRefusedLikeMissing(t, 'get', (id) => ({ id }));
  await assertRefusedLikeMissing(t, 'get', (id) => ({ id }), bVariant.id);
});

t.test("when tenant A gets B's distribution by slug, then it gets the 404 of a slug that does not exist", async (t) => {
  const foreign = await call(A, 'get_by_slug', { slug: bRoot.slug });
  const missing = await call(A, 'get_by_slug', { slug: 'no-such-slug-x' });
  assertNotFound(t, foreign);
  assertNotFound(t, missing);
  t.strictSame(foreign.body.error.details, { slug: 'only-in-b' });
  t.strictSame(withoutValue(foreign, 'only-in-b', '<slug>'), withoutValue(missing, 'no-such-slug-x', '<slug>'));
  const own = await call(B, 'get_by_slug', { slug: bRoot.slug });
  t.equal(own.status, 200);
  t.equal(own.body.id, bRoot.id, 'B finds it by the same slug');
});

t.test("when tenant A lists, then none of B's distributions appear, whatever the filter", async (t) => {
  const list = async (filter: Record<string, unknown>): Promise<string[]> => {
    const reply = await call(A, 'list', filter);
    t.equal(reply.status, 200, `list ${JSON.stringify(filter)}`);
    t.ok(validator.validate('op.list.response', reply.body).ok);
    t.equal(reply.body.next_cursor, null);
    return reply.body.items.map((d: { id: string }) => d.id);
  };
  t.strictSame(await list({}), [aOwn.id], "no filter: only A's own");
  t.strictSame(await list({ course_id: 'course_shared' }), [aOwn.id], "the shared course: only A's own");
  t.strictSame(await list({ target_group: 'employees' }), [aOwn.id], "the shared audience: only A's own");
  t.strictSame(await list({ visibility: 'public' }), [], "B's public one is not A's");
  t.strictSame(await list({ derived_from: bRoot.id }), [], "B's variants are not listed by their parent's id");
  // A cursor positioned before B's ids still only pages through A's rows.
  const cursor = Buffer.from(JSON.stringify({ after: 'dist_0' })).toString('base64url');
  t.strictSame(await list({ cursor }), [aOwn.id], 'a crafted cursor does not reach B');

  const bList = await call(B, 'list', {});
  t.strictSame(bList.body.items.map((d: { id: string }) => d.id).sort(), [bRoot.id, bVariant.id].sort(), 'B sees both of its own');
});

const changes: Array<[operation: string, body: (id: string) => Record<string, unknown>]> = [
  ['update', (id) => ({ id, title: 'Von A überschrieben', slug: 'hijacked' })],
  ['update', (id) => ({ id, title: 'Von A überschrieben', expected_version: 2 })],
  ['publish', (id) => ({ id })],
  ['unpublish', (id) => ({ id, reason: 'hostile_takeover' })],
  ['delete', (id) => ({ id, deleted_by: 'user_of_a' })],
  ['delete', (id) => ({ id, deleted_by: 'user_of_a', cascade: true })],
  ['bump_version', (id) => ({ id, changelog: 'Von A', idempotency_key: 'a-bump-1' })],
  ['create_micro_niche_variant', (id) => ({ parent_id: id, target_group: ['managers'], idempotency_key: 'a-variant-1' })],
  ['log_view', (id) => ({ id, referrer_category: 'direct' })],
  ['track_enrollment_click', (id) => ({ id, cta_type: 'banner' })],
];

for (const [operation, body] of changes) {
  const sample = JSON.stringify(body('<id>'));
  t.test(`when tenant A sends ${operation} ${sample} for B's distribution, then it gets the 404 of a missing id and B's data is unchanged`, async (t) => {
    await assertRefusedLikeMissing(t, operation, body);
  });
}

t.test("when tenant A sends a change for B's variant, then it is refused like a missing id too", async (t) => {
  await assertRefusedLikeMissing(t, 'delete', (id) => ({ id, deleted_by: 'user_of_a' }), bVariant.id);
  await assertRefusedLikeMissing(t, 'update', (id) => ({ id, title: 'Von A' }), bVariant.id);
});

t.test('when both tenants use the same slug, then each has its own distribution under it', async (t) => {
  const explicit = await call(A, 'create', { course_id: 'course_shared', title: 'Auch A', language: 'de', slug: 'only-in-b' });
  t.equal(explicit.status, 200, 'an explicit slug taken only in B is free in A');
  t.equal(explicit.body.slug, 'only-in-b');
  const generated = await call(A, 'create', { course_id: 'course_shared', title: bVariant.slug.replace(/-/g, ' '), language: 'de' });
  t.equal(generated.body.slug, bVariant.slug, "a generated slug ignores B's slugs (no -2 suffix)");

  const inA = await call(A, 'get_by_slug', { slug: 'only-in-b' });
  const inB = await call(B, 'get_by_slug', { slug: 'only-in-b' });
  t.equal(inA.body.id, explicit.body.id, 'A gets its own');
  t.equal(inB.body.id, bRoot.id, 'B gets its own');
  t.equal(inA.body.tenant_id, A);
  t.equal(inB.body.tenant_id, B);

  const inBAgain = await call(B, 'update', { id: bRoot.id, title: 'B geändert' });
  t.equal(inBAgain.status, 200, "B's slug is not disturbed by A's");
  t.equal(inBAgain.body.slug, 'only-in-b');
});

t.test("when tenant A reuses an idempotency key that B used, then A gets its own new distribution, not B's", async (t) => {
  const sameBody = { course_id: 'course_shared', title: 'Nur für B', language: 'de', slug: 'only-in-b-copy', idempotency_key: 'shared-key' };
  const reply = await call(A, 'create', sameBody);
  t.equal(reply.status, 200, `created (got ${JSON.stringify(reply.body)})`);
  t.not(reply.body.id, bRoot.id, "not B's distribution");
  t.equal(reply.body.tenant_id, A);
  const rows = await db.query<{ tenant_id: string }>(`select tenant_id from distribution where id = $1`, [reply.body.id]);
  t.strictSame(rows.rows, [{ tenant_id: A }]);
  const keys = await db.query<{ tenant_id: string }>(`select tenant_id from idempotency_record where key = 'shared-key' order by tenant_id`);
  t.strictSame(
    keys.rows.map((r) => r.tenant_id),
    [A, B],
    'one record per tenant',
  );
});
