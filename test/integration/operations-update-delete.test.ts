/**
 * update and delete over real NATS and PostgreSQL: changed fields and their event, updates that change nothing, stale
 * versions, taken slugs, soft deletes and the cascade over variants.
 * Each success is checked against its response schema, its row and its outbox envelopes (against their event
 * schemas), each failure against its code; every test works in its own tenant (helpers/operations-app.ts).
 */
import t from 'tap';
import { startOperationsApp } from '../helpers/operations-app.js';

const { call, newTenant, outboxOf, outboxOfTenant, distributionRow, create, assertOk, assertFailure, assertEnvelope, lastEventPayload } = await startOperationsApp(t);

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

  t.strictSame(await lastEventPayload(t, created.id, { types: ['distribution.created', 'distribution.updated'], tenant, correlationId: 'req_update_1' }), {
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
  t.strictSame(
    (await outboxOf(created.id)).map((r) => r.event_type),
    ['distribution.created'],
    'no new event',
  );

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
  t.strictSame(
    (await outboxOf(created.id)).map((r) => r.event_type),
    ['distribution.created'],
  );

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

  t.strictSame(await lastEventPayload(t, created.id, { types: ['distribution.created', 'distribution.deleted'], tenant, correlationId: 'req_delete' }), {
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

t.test(
  'when a parent with live variants is deleted, then 409 HAS_VARIANTS names them, and with cascade the parent and then each variant is deleted with its own event',
  async (t) => {
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
    t.strictSame(
      deletedEvents.map((r) => r.aggregate_id),
      [parent.id, ...live],
      'one distribution.deleted per distribution, parent first',
    );
    for (const row of deletedEvents) {
      assertEnvelope(t, row, { type: 'distribution.deleted', tenant, subjectId: row.aggregate_id, correlationId: 'req_cascade' });
      t.equal(row.envelope.payload.deleted_by, 'user_2');
    }
  },
);
