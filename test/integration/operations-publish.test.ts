/**
 * publish and unpublish over real NATS and PostgreSQL: the publish requirements, the visibility change and its event,
 * repeats without an event, stale versions.
 * Each success is checked against its response schema, its row and its outbox envelopes (against their event
 * schemas), each failure against its code; every test works in its own tenant (helpers/operations-app.ts).
 */
import t from 'tap';
import { startOperationsApp, SEO_READY } from '../helpers/operations-app.js';

const { call, newTenant, outboxOf, distributionRow, create, createPublishable, assertOk, assertFailure, lastEventPayload } = await startOperationsApp(t);

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
    t.strictSame(
      (await outboxOf(id)).map((r) => r.event_type),
      ['distribution.created'],
      'no published event',
    );
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

  t.strictSame(await lastEventPayload(t, created.id, { types: ['distribution.created', 'distribution.published'], tenant, correlationId: 'req_publish' }), {
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

  t.strictSame(await lastEventPayload(t, created.id, { types: ['distribution.created', 'distribution.published', 'distribution.unpublished'], tenant }), {
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
