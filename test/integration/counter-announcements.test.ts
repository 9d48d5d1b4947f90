/**
 * Views and clicks as downstream teams see them, over real NATS and PostgreSQL: exact totals in the replies, and
 * aggregated events (COUNTER_EVENT_WINDOW_MS) with exact attribution: at most one event per distribution and
 * category per window, each carrying the running total, so that between two consecutive events of a distribution
 * the total grows by exactly the later event's own category count. What is counted and not yet announced is in
 * the database with the count (counter_pending), so another instance announces it after a crash, and a stop
 * announces the open window.
 */
import t from 'tap';
import { createContractValidator } from '../../src/contracts/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const WINDOW_MS = 300;
const validator = createContractValidator();
const main = await startTestApp(t, { env: { COUNTER_EVENT_WINDOW_MS: String(WINDOW_MS) } });
let tenants = 0;
const newTenant = () => `counting_${++tenants}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Announced {
  type: string;
  total: number;
  category: string;
  envelope: any;
}

async function create(app: TestApp, tenant: string, body: Record<string, unknown> = {}): Promise<{ id: string; slug: string }> {
  const reply = await app.call(tenant, 'create', { course_id: 'course_1', language: 'de', title: `Seite ${tenant}`, ...body });
  if (reply.status !== 200) throw new Error(`setup: create failed: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** The counting events of a distribution in outbox order (the order they are published in). */
async function announced(app: TestApp, id: string, type: 'distribution.viewed' | 'distribution.enrollment_clicked'): Promise<Announced[]> {
  const rows = await app.db.query<{ envelope: any }>(`select envelope from outbox_event where aggregate_id = $1 and event_type = $2 order by id`, [id, type]);
  return rows.rows.map(({ envelope }) => ({
    type,
    envelope,
    total: type === 'distribution.viewed' ? envelope.payload.view_count : envelope.payload.enrollment_count,
    category: type === 'distribution.viewed' ? envelope.payload.referrer_category : envelope.payload.cta_type,
  }));
}

/** Waits until the last announced total of `id` is `total` (or gives up after `ms`). */
async function announcedUpTo(app: TestApp, id: string, type: 'distribution.viewed' | 'distribution.enrollment_clicked', total: number, ms = 5000): Promise<Announced[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const events = await announced(app, id, type);
    if (events.at(-1)?.total === total || Date.now() > deadline) return events;
    await sleep(25);
  }
}

/** Per category: the views (clicks) each event stands for, from the differences of consecutive totals. */
function attribution(events: readonly Announced[]): Record<string, number> {
  const credited: Record<string, number> = {};
  let previous = 0;
  for (const event of events) {
    credited[event.category] = (credited[event.category] ?? 0) + event.total - previous;
    previous = event.total;
  }
  return credited;
}

t.test('when views of several referrers arrive together, then each referrer is credited exactly its own views and the totals are exact', async (t) => {
  const tenant = newTenant();
  const { id, slug } = await create(main, tenant);
  const referrers = [...Array(5).fill('organic_search'), ...Array(3).fill('social'), ...Array(2).fill(undefined)] as (string | undefined)[];
  const replies = await Promise.all(referrers.map((referrer) => main.call(tenant, 'log_view', { id, ...(referrer && { referrer_category: referrer }) })));
  t.strictSame(
    replies.map((r) => r.body.view_count).sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    'every reply has its own committed total',
  );
  const events = await announcedUpTo(main, id, 'distribution.viewed', 10);
  t.strictSame(attribution(events), { organic_search: 5, social: 3, unknown: 2 }, 'the differences credit each referrer exactly (an omitted one is unknown)');
  t.ok(events.length <= 3, `at most one event per referrer in this window (${events.length})`);
  t.equal(new Set(events.map((e) => e.category)).size, events.length, 'no referrer twice in one window');
  for (const event of events) {
    t.ok(validator.validate('distribution.viewed', event.envelope).ok, 'a valid distribution.viewed');
    t.match(event.envelope.payload, { distribution_id: id, slug });
    t.equal(event.envelope.meta.causation_id, null, 'an aggregate of many requests has no single cause');
    t.match(event.envelope.meta.correlation_id, /^corr_[0-9A-Z]{26}$/);
  }
  t.equal(new Set(events.map((e) => e.envelope.meta.correlation_id)).size, 1, 'the events of one announcement share one correlation id');
});

t.test('when a click names no CTA element, then its event says unknown, never an invented element', async (t) => {
  const tenant = newTenant();
  const { id } = await create(main, tenant);
  t.equal((await main.call(tenant, 'track_enrollment_click', { id })).body.enrollment_count, 1);
  t.equal((await main.call(tenant, 'track_enrollment_click', { id, cta_type: 'banner' })).body.enrollment_count, 2);
  const events = await announcedUpTo(main, id, 'distribution.enrollment_clicked', 2);
  t.strictSame(attribution(events), { unknown: 1, banner: 1 });
  for (const event of events) t.ok(validator.validate('distribution.enrollment_clicked', event.envelope).ok);
});

t.test('when views keep coming over several windows, then each referrer gets at most one event per window and the totals only grow', async (t) => {
  const tenant = newTenant();
  const { id } = await create(main, tenant);
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < 4 * WINDOW_MS) {
    await Promise.all(['direct', 'email', 'direct'].map((referrer_category) => main.call(tenant, 'log_view', { id, referrer_category })));
    sent += 3;
    await sleep(20);
  }
  const elapsedWindows = (Date.now() - started) / WINDOW_MS;
  const events = await announcedUpTo(main, id, 'distribution.viewed', sent);
  t.equal(events.at(-1)?.total, sent, 'the last event carries the final total');
  t.strictSame(attribution(events), { direct: (sent / 3) * 2, email: sent / 3 });
  for (const category of ['direct', 'email']) {
    const times = events.filter((e) => e.category === category).map((e) => Date.parse(e.envelope.timestamp));
    t.ok(times.length <= Math.ceil(elapsedWindows) + 1, `${category}: ${times.length} events over ${elapsedWindows.toFixed(1)} windows`);
    for (let i = 1; i < times.length; i++) t.ok(times[i]! - times[i - 1]! >= WINDOW_MS - 50, `${category}: events ${times[i]! - times[i - 1]!} ms apart`);
  }
  const totals = events.map((e) => e.total);
  t.strictSame(
    totals,
    [...totals].sort((a, b) => a - b),
    'monotone',
  );
  t.ok(events.length < sent / 2, `far fewer events (${events.length}) than views (${sent})`);
});

t.test('when a private distribution is viewed, then the view is counted and announced like any other (the decision: a page view is a fact)', async (t) => {
  const tenant = newTenant();
  const { id } = await create(main, tenant);
  const reply = await main.call(tenant, 'log_view', { id, referrer_category: 'internal' });
  t.strictSame([reply.status, reply.body.view_count], [200, 1]);
  t.equal((await main.call(tenant, 'get', { id })).body.visibility, 'private');
  t.strictSame(attribution(await announcedUpTo(main, id, 'distribution.viewed', 1)), { internal: 1 });
});

t.test('when views are acknowledged, then what is not yet announced is already in the database with them', async (t) => {
  const slow = await startTestApp(t, { env: { COUNTER_EVENT_WINDOW_MS: '600000' } });
  const tenant = newTenant();
  const { id } = await create(slow, tenant);
  await Promise.all(['paid_search', 'paid_search', 'referral'].map((referrer_category) => slow.call(tenant, 'log_view', { id, referrer_category })));
  const pending = await slow.db.query(`select category, n::int from counter_pending where distribution_id = $1 and kind = 'views' order by category`, [id]);
  t.strictSame(pending.rows, [
    { category: 'paid_search', n: 2 },
    { category: 'referral', n: 1 },
  ]);
  t.strictSame(await announced(slow, id, 'distribution.viewed'), [], 'nothing announced before the window ends');

  // Another instance on the same database (as after a crash of the first) announces them once the window ended.
  const other = await startTestApp(t, { db: slow.db, env: { COUNTER_EVENT_WINDOW_MS: '50', CONSUMER_ENABLED: 'false', RELAY_ENABLED: 'false' } });
  const events = await announcedUpTo(other, id, 'distribution.viewed', 3);
  t.strictSame(attribution(events), { paid_search: 2, referral: 1 });
  t.equal((await slow.db.query(`select count(*)::int as n from counter_pending where distribution_id = $1`, [id])).rows[0]?.n, 0, 'nothing left pending');
});

t.test('when the service stops, then the open window is announced before it ends', async (t) => {
  const slow = await startTestApp(t, { env: { COUNTER_EVENT_WINDOW_MS: '600000' } });
  const tenant = newTenant();
  const { id } = await create(slow, tenant);
  await slow.call(tenant, 'log_view', { id, referrer_category: 'email' });
  await slow.call(tenant, 'track_enrollment_click', { id, cta_type: 'inline_link' });
  t.strictSame(await announced(slow, id, 'distribution.viewed'), []);
  await slow.app.stop();
  t.strictSame(attribution(await announced(slow, id, 'distribution.viewed')), { email: 1 });
  t.strictSame(attribution(await announced(slow, id, 'distribution.enrollment_clicked')), { inline_link: 1 });
  const published = await slow.db.query(`select count(*)::int as n from outbox_event where aggregate_id = $1 and published_at is null`, [id]);
  t.equal(published.rows[0]?.n, 0, 'and published by the relay before the stop returned');
});

t.test('when a distribution is deleted before its window ends, then its views are announced before its distribution.deleted', async (t) => {
  const slow = await startTestApp(t, { env: { COUNTER_EVENT_WINDOW_MS: '600000' } });
  const tenant = newTenant();
  const { id } = await create(slow, tenant);
  await Promise.all(['social', 'social', 'direct'].map((referrer_category) => slow.call(tenant, 'log_view', { id, referrer_category })));
  t.equal((await slow.call(tenant, 'delete', { id, deleted_by: 'user_1' })).status, 200);
  const types = await slow.db.query<{ event_type: string }>(`select event_type from outbox_event where aggregate_id = $1 order by id`, [id]);
  t.strictSame(
    types.rows.map((r) => r.event_type),
    ['distribution.created', 'distribution.viewed', 'distribution.viewed', 'distribution.deleted'],
  );
  t.strictSame(attribution(await announced(slow, id, 'distribution.viewed')), { social: 2, direct: 1 });
});
