/**
 * `ops.status` and its copy in `$SRV.STATS` against real NATS and PostgreSQL: identity and process figures, an
 * outbox backlog while JetStream refuses the relay's publishes (the event stream is gone) that drains once the
 * stream is back, a dead letter raising the open count, and EXPLAIN of the counts over many published rows.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import t from 'tap';
import { provisionEventStream } from '../../src/messaging/event-stream.js';
import { BACKLOG_SQL } from '../../src/persistence/outbox-relay-store.js';
import { PACKAGE_VERSION } from '../../src/version.js';
import { startTestApp } from '../helpers/app.js';
import { publishCourseEvent } from '../helpers/course-events.js';
import { waitFor } from '../helpers/event-stream.js';
import { opsGather, opsRequest } from '../helpers/ops.js';

const { app, db, nc, namespace, config, call } = await startTestApp(t, {
  env: { OUTBOX_MAX_BACKOFF_MS: '300', OUTBOX_LOCK_RETRY_MS: '100', OUTBOX_PUBLISH_TIMEOUT_MS: '1000' },
});
interface PlanNode {
  type: string;
  relation?: string;
  index?: string;
}

/** EXPLAIN ANALYZE of `sql`: every scan node of the plan and the execution time. */
async function explain(sql: string): Promise<{ nodes: PlanNode[]; ms: number }> {
  const [plan] = (await db.query(`explain (analyze, format json) ${sql}`)).rows[0]!['QUERY PLAN'];
  const nodes: PlanNode[] = [];
  const walk = (node: any): void => {
    nodes.push({ type: node['Node Type'], relation: node['Relation Name'], index: node['Index Name'] });
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan.Plan);
  return { nodes, ms: plan['Execution Time'] };
}
const status = async () => (await opsRequest(nc, namespace.id, 'status')).body;
await waitFor('the relay active and the consumer pulling', () => app.relay!.active && app.consumer!.status().pulling);

t.test('when ops.status is asked, then it names the instance and reports every section', async (t) => {
  const [answer] = await opsGather(nc, namespace.id, 'status');
  t.equal(answer.version, PACKAGE_VERSION);
  t.match(answer.instance_id, /^[A-Za-z0-9]+$/);
  t.ok(answer.uptime_ms > 0 && Date.parse(answer.started_at) <= Date.now(), 'uptime and start');
  t.same(answer.unavailable, {}, 'every section readable');
  t.match(answer.outbox, { unpublished: 0, oldest_unpublished_age_ms: null, relay: 'active', publish_failures_total: 0 });
  t.match(answer.consumer, { enabled: true, paused: false, pulling: true, num_pending: 0, num_ack_pending: 0, num_redelivered: 0 });
  t.same(answer.dead_letters, { open: 0 });
  t.same(answer.mailbox, { pending: 0 });
  t.same(answer.counters, { views: { queued: 0, flushing: 0 }, clicks: { queued: 0, flushing: 0 } });
  const own = await opsRequest(nc, namespace.id, `status.${answer.instance_id}`);
  t.equal(own.body.instance_id, answer.instance_id, 'ops.status.<instance id> answers too');
  t.equal((await opsRequest(nc, namespace.id, 'status', { verbose: true })).status, 400, 'an unknown field is refused');
});

t.test('when $SRV.STATS of the instance is asked, then the ops_status endpoint carries the status in data', async (t) => {
  const { instance_id: id } = await status();
  const stats = (await nc.request(`$SRV.STATS.course_distribution.${id}`, '', { timeout: 10_000 })).json<any>();
  const endpoint = stats.endpoints.find((e: { name: string }) => e.name === 'ops_status');
  t.match(endpoint.data, { instance_id: id, outbox: { relay: 'active' }, dead_letters: { open: 0 }, mailbox: { pending: 0 } });
  t.ok(endpoint.num_requests >= 1, "the endpoint's own figures survive next to data");
  t.equal(stats.endpoints.find((e: { name: string }) => e.name === 'create').data, null, 'other endpoints carry no data');
});

t.test('when JetStream refuses the relay (event stream gone), then the backlog and failures show, and drain once it is back', async (t) => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(config.stream.name);
  for (let i = 0; i < 3; i++) t.equal((await call('ops_status', 'create', { course_id: `course_backlog_${i}`, title: `Rückstau ${i}`, language: 'de' })).status, 200);
  const during = await waitFor('failures counted', async () => {
    const s = await status();
    return s.outbox.publish_failures_total > 0 && s.outbox.oldest_unpublished_age_ms > 0 ? s : undefined;
  });
  t.equal(during.outbox.unpublished, 3, 'the three events wait');
  t.ok(during.outbox.last_error, `last error: ${during.outbox.last_error}`);

  const before = during.outbox.last_published_at;
  await provisionEventStream(nc, config.stream, namespace.id, pino({ level: 'silent' }), { retryMs: 100, signal: AbortSignal.timeout(10_000) });
  const after = await waitFor(
    'drained',
    async () => {
      const s = await status();
      return s.outbox.unpublished === 0 ? s : undefined;
    },
    20_000,
  );
  t.equal(after.outbox.oldest_unpublished_age_ms, null);
  t.ok(after.outbox.last_published_at && after.outbox.last_published_at !== before, 'last publish time moved');
  t.ok(after.outbox.publish_failures_total >= during.outbox.publish_failures_total, 'failures are totals since start');
});

t.test('when a poison message is dead-lettered, then dead_letters.open rises by one', async (t) => {
  const open = (await status()).dead_letters.open;
  await publishCourseEvent(nc, namespace.id, 'course.generation.completed', {}, { raw: '{"id": "evt_poison_status", "payload": ' });
  const raised = await waitFor('the letter counted and the message terminated', async () => {
    const s = await status();
    return s.dead_letters.open > open && s.consumer.num_ack_pending === 0 ? s : undefined;
  });
  t.equal(raised.dead_letters.open, open + 1);
});

t.test('when the outbox keeps many published rows, then the backlog and dead-letter counts read only their partial indexes', async (t) => {
  await db.query(`insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope, published_at)
    select 'evt_bulk_' || g, 'distribution.viewed', 'distribution.viewed.dist_bulk', 'dist_bulk', 'bulk', '{}', now() from generate_series(1, 200000) g`);
  await db.query(`insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope)
    select 'evt_waiting_' || g, 'distribution.viewed', 'distribution.viewed.dist_bulk', 'dist_bulk', 'bulk', '{}' from generate_series(1, 5) g`);
  await db.query(`insert into dead_letter (consumer, subject, headers, data, reason, delivery_count, replayed_at, replay_outcome)
    select 'c', 's', '{}', '', 'r', 1, now(), 'applied' from generate_series(1, 50000) g`);
  await db.query('vacuum analyze outbox_event');
  await db.query('vacuum analyze dead_letter');
  const backlog = await explain(BACKLOG_SQL);
  t.ok(
    backlog.nodes.some((n) => n.type === 'Index Only Scan' && n.index === 'outbox_event_unpublished_idx'),
    'count: index-only scan of the unpublished part',
  );
  t.same(
    backlog.nodes.filter((n) => n.relation === 'outbox_event' && n.index !== 'outbox_event_unpublished_idx'),
    [],
    'nothing reads outbox_event except through the partial index (no Seq Scan, no primary key walk)',
  );
  const letters = await explain('select count(*) from dead_letter where replayed_at is null');
  t.same(
    letters.nodes.filter((n) => n.relation === 'dead_letter').map((n) => n.index),
    ['dead_letter_open_idx'],
    'the open count reads the partial index only',
  );
  t.comment(`backlog ${backlog.ms} ms, open dead letters ${letters.ms} ms over 200k published rows / 50k replayed letters`);
});
