/**
 * log_view and track_enrollment_click over real NATS and PostgreSQL: the committed total in each reply, the aggregate
 * counting events (announced per COUNTER_EVENT_WINDOW_MS, here a short one; counter-announcements.test.ts has the
 * windows themselves), unknown or deleted distributions, correlation ids.
 * Each success is checked against its response schema, its row and its outbox envelopes (against their event
 * schemas), each failure against its code; every test works in its own tenant (helpers/operations-app.ts).
 */
import t from 'tap';
import { startOperationsApp } from '../helpers/operations-app.js';

const {
  call,
  validator,
  newTenant,
  outboxOf: allOutboxOf,
  distributionRow,
  create,
  assertOk,
  assertFailure,
  assertEnvelope,
} = await startOperationsApp(t, {
  env: { COUNTER_EVENT_WINDOW_MS: '50' },
});

/** The outbox of a distribution once nothing of it is pending announcement any more (within 5 s). */
async function outboxOf(id: string) {
  const row = await distributionRow(id);
  const deadline = Date.now() + 5000;
  for (;;) {
    const outbox = await allOutboxOf(id);
    const last = (type: string, field: string) => outbox.filter((r) => r.event_type === type).at(-1)?.envelope.payload[field] ?? 0;
    const done =
      last('distribution.viewed', 'view_count') === (row?.view_count ?? 0) && last('distribution.enrollment_clicked', 'enrollment_count') === (row?.enrollment_count ?? 0);
    if (done || Date.now() > deadline) return outbox;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

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
    'one event per referrer, each with the running total',
  );
  t.strictSame(
    viewed.map((r) => r.envelope.payload.referrer_category),
    ['organic_search', 'social', 'unknown'],
  );
  for (const row of viewed) {
    assertEnvelope(t, row, { type: 'distribution.viewed', tenant, subjectId: created.id, aggregated: true });
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
  for (const row of clicked) assertEnvelope(t, row, { type: 'distribution.enrollment_clicked', tenant, subjectId: created.id, aggregated: true });
  t.match(clicked[0]?.envelope.payload, { distribution_id: created.id, slug: created.slug, enrollment_count: 1, cta_type: 'banner' });
  t.match(clicked[1]?.envelope.payload, { enrollment_count: 2, cta_type: 'unknown' }, 'an omitted cta_type is unknown, never an invented element');
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

t.test('when views carry correlation ids, then their aggregate event has none of them: a new correlation id and no causation', async (t) => {
  // README, "Conventions": an aggregate event stands for many requests, so no request is its cause; the events of one
  // announcement share one new correlation id.
  const tenant = newTenant();
  const created = await create(t, tenant, { title: 'Korreliert' });
  assertOk(t, await call(tenant, 'log_view', { id: created.id, correlation_id: 'req_view_1' }), 'log_view');
  assertOk(t, await call(tenant, 'track_enrollment_click', { id: created.id, correlation_id: 'req_click_1' }), 'track_enrollment_click');
  const outbox = await outboxOf(created.id);
  for (const type of ['distribution.viewed', 'distribution.enrollment_clicked']) {
    const event = outbox.find((r) => r.event_type === type);
    assertEnvelope(t, event, { type, tenant, subjectId: created.id, aggregated: true });
    t.notMatch(event?.envelope.meta.correlation_id, /^req_/, `${type}: not a request's correlation id`);
  }
});
