/**
 * A staging deployment reaches every distribution of its course, over real NATS and PostgreSQL: one consumed
 * before a distribution exists is applied when it is created, whether by the consumer (the root), a manual create
 * or a micro-niche variant; its distribution.created is then followed by a distribution.updated naming the staging
 * fields. Concurrent creates and deployments of one course never miss each other (the course lock).
 */
import t from 'tap';
import pg from 'pg';
import { courseLockKey } from '../../src/persistence/advisory-locks.js';
import { createContractValidator } from '../../src/contracts/index.js';
import type { ProcessOutcome } from '../../src/messaging/upstream-consumer.js';
import { startTestApp } from '../helpers/app.js';
import { deployedStaging, generationCompleted, publishCourseEvent } from '../helpers/course-events.js';
import { waitFor } from '../helpers/event-stream.js';

const outcomes: { seq: number; outcome: ProcessOutcome }[] = [];
const { call, db, nc, namespace } = await startTestApp(t, {
  overrides: { consumerHooks: { beforeAck: (delivery, outcome) => (outcomes.push({ seq: delivery.streamSeq, outcome }), true) } },
});
const validator = createContractValidator();
const outcomeOf = (seq: number) => waitFor(`outcome of seq ${seq}`, () => outcomes.find((o) => o.seq === seq)?.outcome);
const tenant = 'brain_prod';

async function deploy(courseId: string, deployedAt: string): Promise<string> {
  const url = `https://staging.brain.falklabs.de/courses/${courseId}/${deployedAt.slice(0, 10)}`;
  const published = await publishCourseEvent(nc, namespace.id, 'course.deployed.staging', deployedStaging(courseId, deployedAt, url));
  if ((await outcomeOf(published.seq)) !== 'applied') throw new Error('setup: deployment not applied');
  return url;
}

async function eventsOf(id: string): Promise<any[]> {
  return (await db.query(`select envelope from outbox_event where aggregate_id = $1 order by id`, [id])).rows.map((r) => r.envelope);
}

t.test('when a distribution is created by hand after its course was deployed, then it starts with the staging URL, announced right after its creation', async (t) => {
  const url = await deploy('course_manual_1', '2026-12-01T10:00:00.000Z');
  const created = await call(tenant, 'create', { course_id: 'course_manual_1', title: 'Von Hand', language: 'de' });
  t.equal(created.status, 200);
  t.match(created.body, { staging_url: url, staging_deployed_at: '2026-12-01T10:00:00.000Z', row_version: 1 });
  const events = await eventsOf(created.body.id);
  t.strictSame(
    events.map((e) => e.type),
    ['distribution.created', 'distribution.updated'],
  );
  t.match(events[1].payload, {
    updated_fields: ['staging_url', 'staging_deployed_at'],
    old_values: { staging_url: null, staging_deployed_at: null },
    new_values: { staging_url: url, staging_deployed_at: '2026-12-01T10:00:00.000Z' },
  });
  for (const event of events) t.ok(validator.validate(event.type, event).ok, `${event.type} validates`);
  t.equal((await call(tenant, 'get', { id: created.body.id })).body.staging_url, url, 'and it is stored');
});

t.test('when a micro-niche variant is created after its course was deployed, then it starts with the staging URL too', async (t) => {
  const parent = await call(tenant, 'create', { course_id: 'course_variant_1', title: 'Eltern', language: 'de' });
  const url = await deploy('course_variant_1', '2026-12-02T10:00:00.000Z');
  const variant = await call(tenant, 'create_micro_niche_variant', { parent_id: parent.body.id, target_group: ['students'] });
  t.equal(variant.status, 200);
  t.match(variant.body, { staging_url: url, staging_deployed_at: '2026-12-02T10:00:00.000Z', derived_from: parent.body.id });
  t.strictSame(
    (await eventsOf(variant.body.id)).map((e) => e.type),
    ['distribution.created', 'distribution.micro_niche_created', 'distribution.updated'],
  );
});

t.test('when a later deployment was consumed, then a new distribution starts with the latest one only', async (t) => {
  await deploy('course_latest_1', '2026-12-03T10:00:00.000Z');
  const latest = await deploy('course_latest_1', '2026-12-04T10:00:00.000Z');
  const created = await call(tenant, 'create', { course_id: 'course_latest_1', title: 'Neueste', language: 'en' });
  t.match(created.body, { staging_url: latest, staging_deployed_at: '2026-12-04T10:00:00.000Z' });
});

t.test('when the course was never deployed, then a new distribution has no staging URL and only its distribution.created', async (t) => {
  const created = await call(tenant, 'create', { course_id: 'course_undeployed', title: 'Nie bereitgestellt', language: 'de' });
  t.match(created.body, { staging_url: null, staging_deployed_at: null });
  t.strictSame(
    (await eventsOf(created.body.id)).map((e) => e.type),
    ['distribution.created'],
  );
});

t.test('when creates and a deployment of one course race, then every distribution ends with the staging URL', async (t) => {
  const courseId = 'course_race_1';
  const deployedAt = '2026-12-05T10:00:00.000Z';
  const url = `https://staging.brain.falklabs.de/courses/${courseId}/race`;
  const [published, ...creates] = await Promise.all([
    publishCourseEvent(nc, namespace.id, 'course.deployed.staging', deployedStaging(courseId, deployedAt, url)),
    ...Array.from({ length: 8 }, (_, i) => call(tenant, 'create', { course_id: courseId, title: `Rennen ${i}`, language: 'de' })),
  ]);
  t.equal(await outcomeOf(published.seq), 'applied');
  t.ok(
    creates.every((c) => c.status === 200),
    'every create succeeds',
  );
  const rows = await db.query(`select staging_url from distribution where course_id = $1`, [courseId]);
  t.equal(rows.rows.length, 8);
  t.ok(
    rows.rows.every((r) => r.staging_url === url),
    'none missed the deployment',
  );
});

t.test('when a course is generated after its deployment, then its root distribution starts with the staging URL (as before)', async (t) => {
  const url = await deploy('course_root_1', '2026-12-06T10:00:00.000Z');
  const published = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_root_1', { tenant_id: tenant }));
  t.equal(await outcomeOf(published.seq), 'applied');
  const row = (await db.query(`select id, staging_url from distribution where course_id = $1`, ['course_root_1'])).rows[0];
  t.equal(row?.staging_url, url);
  t.strictSame(
    (await eventsOf(row!.id)).map((e) => e.type),
    ['distribution.created', 'distribution.updated'],
  );
});

t.test("when a deployment's time has microseconds or no fraction, then its events and reads carry it as UTC milliseconds", async (t) => {
  const created = await call(tenant, 'create', { course_id: 'course_precision_1', title: 'Präzision', language: 'de' });
  const url = await deploy('course_precision_1', '2026-12-07T11:00:00.123456+01:00');
  const updated = (await eventsOf(created.body.id)).at(-1);
  t.equal(updated.type, 'distribution.updated');
  t.strictSame(updated.payload.new_values, { staging_url: url, staging_deployed_at: '2026-12-07T10:00:00.123Z' });
  t.equal((await call(tenant, 'get', { id: created.body.id })).body.staging_deployed_at, '2026-12-07T10:00:00.123Z', 'the same as a read returns');
});

t.test("when a create holds its course's lock, then it is the very lock a consumed deployment of that course takes", async (t) => {
  const creating = new pg.Client({ connectionString: db.url });
  const deploying = new pg.Client({ connectionString: db.url });
  await Promise.all([creating.connect(), deploying.connect()]);
  t.teardown(() => Promise.all([creating.end(), deploying.end()]));
  await creating.query('begin');
  await creating.query(`select * from course_staging_after_lock('course_lock_1')`);
  await deploying.query('begin');
  const tried = await deploying.query(`select pg_try_advisory_xact_lock(hashtextextended($1, 7262002)) as free`, [courseLockKey('course_lock_1')]);
  t.equal(tried.rows[0]?.free, false, 'the key claimMessage serialises on is held');
  await creating.query('rollback');
  t.equal((await deploying.query(`select pg_try_advisory_xact_lock(hashtextextended($1, 7262002)) as free`, [courseLockKey('course_lock_1')])).rows[0]?.free, true);
  await deploying.query('rollback');
});
