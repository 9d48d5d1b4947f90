/**
 * get, get_by_slug and list over real NATS and PostgreSQL: reads by id and by slug, deleted distributions, the list
 * filters, paging and cursors it did not issue.
 * Each success is checked against its response schema, its row and its outbox envelopes (against their event
 * schemas), each failure against its code; every test works in its own tenant (helpers/operations-app.ts).
 */
import t from 'tap';
import { startOperationsApp } from '../helpers/operations-app.js';

const { call, newTenant, create, createPublishable, assertOk, assertFailure } = await startOperationsApp(t);

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
  t.strictSame(await ids({ course_id: 'course_a' }), sorted(a.id, b.id, v.id), "course_id (the variant has its parent's course)");
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
  t.strictSame(
    rest.body.items.map((d: { id: string }) => d.id),
    [[...created].sort()[6]],
  );
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
