/**
 * bump_version and create_micro_niche_variant over real NATS and PostgreSQL: version labels with their changelog,
 * idempotent bumps, derived variants and the parents a variant may not have.
 * Each success is checked against its response schema, its row and its outbox envelopes (against their event
 * schemas), each failure against its code; every test works in its own tenant (helpers/operations-app.ts).
 */
import t from 'tap';
import { startOperationsApp } from '../helpers/operations-app.js';

const { call, newTenant, outboxOf, outboxOfTenant, countRows, distributionRow, create, createPublishable, assertOk, assertFailure, assertEnvelope } = await startOperationsApp(t);

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
  t.strictSame(
    outbox.map((r) => r.event_type),
    ['distribution.created', 'distribution.version_bumped', 'distribution.version_bumped'],
  );
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
  t.strictSame(
    (await outboxOf(created.id)).map((r) => r.event_type),
    ['distribution.created', 'distribution.version_bumped'],
  );

  const reused = await call(tenant, 'bump_version', { id: created.id, changelog: 'Anders', idempotency_key: 'bump-key-1' });
  assertFailure(t, reused, 409, 'IDEMPOTENCY_KEY_REUSED');
  t.match(await distributionRow(created.id), { version: 'v2' });
});

t.test('when a bump has a blank changelog, an unknown id or a stale version, then 400, 404 or 409 and nothing changes', async (t) => {
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Nicht hoch' });
  assertFailure(t, await call(tenant, 'bump_version', { id: created.id, changelog: '   ' }), 400, 'VALIDATION_FAILED', [{ path: '/changelog', reason: 'must not be blank' }]);
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
  t.strictSame(
    outbox.map((r) => r.event_type),
    ['distribution.created', 'distribution.micro_niche_created'],
    'in that order',
  );
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
  t.strictSame(
    (await outboxOf(parent.id)).map((r) => r.event_type),
    ['distribution.created'],
    'the parent is not changed',
  );

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

  assertFailure(t, await call(tenant, 'create_micro_niche_variant', { parent_id: parent.id, target_group: ['managers'], slug: variant.body.slug }), 409, 'SLUG_TAKEN', {
    slug: variant.body.slug,
  });

  t.equal(await countRows('distribution where tenant_id = $1', [tenant]), before + 1, 'only the deleted parent was added');
  t.equal((await outboxOfTenant(tenant)).length, eventsBefore + 2, 'only the created and deleted events of the doomed parent');
});
