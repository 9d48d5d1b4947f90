/**
 * log_view and track_enrollment_click over real NATS and PostgreSQL: the committed total in each reply, the aggregate
 * counting events, unknown or deleted distributions, correlation ids.
 * Each success is checked against its response schema, its row and its outbox envelopes (against their event
 * schemas), each failure against its code; every test works in its own tenant (helpers/operations-app.ts).
 */
import t from 'tap';
import { startOperationsApp } from '../helpers/operations-app.js';

const { call, validator, newTenant, outboxOf, distributionRow, create, assertOk, assertFailure, assertEnvelope } = await startOperationsApp(t);

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
  t.strictSame(
    viewed.map((r) => r.envelope.payload.view_count),
    [1, 2, 3],
    'one aggregate event per flush, each with the total',
  );
  t.strictSame(
    viewed.map((r) => r.envelope.payload.referrer_category),
    ['organic_search', 'social', 'unknown'],
  );
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
  t.strictSame(
    replies.map((r) => r.body.view_count).sort((a, b) => a - b),
    Array.from({ length: 12 }, (_, i) => i + 1),
    'totals 1..12, each once',
  );
  t.equal((await distributionRow(created.id)).view_count, 12);

  const viewed = (await outboxOf(created.id)).filter((r) => r.event_type === 'distribution.viewed');
  t.ok(viewed.length >= 1 && viewed.length <= 12, `between 1 and 12 aggregate events (${viewed.length})`);
  const totals = viewed.map((r) => r.envelope.payload.view_count as number);
  t.strictSame(
    totals,
    [...totals].sort((a, b) => a - b),
    'totals only grow',
  );
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
  t.strictSame(
    (await outboxOf(created.id)).map((r) => r.event_type),
    ['distribution.created', 'distribution.deleted'],
    'no counting event',
  );
});

t.test('when a single view carries a correlation id, then its distribution.viewed event carries that correlation id', async (t) => {
  // docs/CONTRACT.md: meta.correlation_id comes from the request that caused the event. A flush that holds one request
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
