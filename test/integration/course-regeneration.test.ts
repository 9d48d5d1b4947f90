/**
 * A regenerated course is announced, over real NATS and PostgreSQL: a course.generation.completed with a later
 * completed_at than the one recorded for its course bumps the root distribution's version (editors' fields
 * untouched) with a changelog naming the regeneration and the lesson count, and emits distribution.version_bumped;
 * an equal or older completed_at is a re-send and changes nothing. The result does not depend on the order in which
 * a regeneration and a staging deployment arrive. Intake is lenient: unused fields may be missing.
 */
import t from 'tap';
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
const tenant = 'brain_prod';

async function send(type: 'course.generation.completed' | 'course.deployed.staging', payload: object, correlationId?: string): Promise<{ id: string; outcome: ProcessOutcome }> {
  const published = await publishCourseEvent(nc, namespace.id, type, payload, { correlationId });
  const outcome = await waitFor(`outcome of seq ${published.seq}`, () => outcomes.find((o) => o.seq === published.seq)?.outcome);
  return { id: published.id, outcome };
}

const completed = (courseId: string, completedAt: string, overrides: Record<string, unknown> = {}) =>
  generationCompleted(courseId, { tenant_id: tenant, completed_at: completedAt, ...overrides });

async function rootOf(courseId: string): Promise<any> {
  return (await db.query(`select * from distribution where course_id = $1 and derived_from is null and deleted_at is null`, [courseId])).rows[0];
}
async function eventsOf(id: string): Promise<any[]> {
  return (await db.query(`select envelope from outbox_event where aggregate_id = $1 order by id`, [id])).rows.map((r) => r.envelope);
}

t.test('when a course is generated again with a later completed_at, then its root is bumped with a changelog and distribution.version_bumped', async (t) => {
  t.equal((await send('course.generation.completed', completed('course_regen_1', '2026-12-01T09:00:00Z'))).outcome, 'applied');
  const root = await rootOf('course_regen_1');
  const edited = await call(tenant, 'update', { id: root.id, title: 'Von der Redaktion', description: 'Redigiert.' });
  t.equal(edited.status, 200);

  const regeneration = await send(
    'course.generation.completed',
    completed('course_regen_1', '2026-12-05T09:00:00Z', { total_lessons: 14, title: 'Neu generiert' }),
    'req_cf_regen',
  );
  t.equal(regeneration.outcome, 'applied');
  const after = (await call(tenant, 'get', { id: root.id })).body;
  t.match(after, { version: 'v2', title: 'Von der Redaktion', description: 'Redigiert.', row_version: 3 }, "the version moves on, the editors' fields stay");
  const events = await eventsOf(root.id);
  t.strictSame(
    events.map((e) => e.type),
    ['distribution.created', 'distribution.updated', 'distribution.version_bumped'],
  );
  const bumped = events.at(-1);
  t.ok(validator.validate('distribution.version_bumped', bumped).ok, 'a valid distribution.version_bumped');
  t.match(bumped.payload, { distribution_id: root.id, old_version: 'v1', new_version: 'v2' });
  t.match(bumped.payload.changelog, /regenerated/i, 'the changelog names the regeneration');
  t.match(bumped.payload.changelog, /14 lessons/, 'and the lesson count');
  t.equal(bumped.meta.causation_id, regeneration.id, 'caused by the consumed event');
  t.equal(bumped.meta.correlation_id, 'req_cf_regen', "in the consumed event's correlation");
});

t.test('when the same completion is re-sent or an older one arrives, then nothing changes', async (t) => {
  t.equal((await send('course.generation.completed', completed('course_regen_2', '2026-12-05T09:00:00Z'))).outcome, 'applied');
  const root = await rootOf('course_regen_2');
  t.equal((await send('course.generation.completed', completed('course_regen_2', '2026-12-05T09:00:00.000Z'))).outcome, 'no-op', 'equal (written differently)');
  t.equal((await send('course.generation.completed', completed('course_regen_2', '2026-12-04T09:00:00Z'))).outcome, 'no-op', 'older');
  t.match(await rootOf('course_regen_2'), { version: 'v1', row_version: 1 });
  t.strictSame(
    (await eventsOf(root.id)).map((e) => e.type),
    ['distribution.created'],
  );
  t.equal((await send('course.generation.completed', completed('course_regen_2', '2026-12-06T09:00:00Z'))).outcome, 'applied', 'a later one still counts');
  t.equal((await rootOf('course_regen_2')).version, 'v2');
});

t.test('when a regeneration comes without total_lessons, then the changelog says the lesson count was not given', async (t) => {
  const first = completed('course_regen_3', '2026-12-01T09:00:00Z');
  delete (first as Record<string, unknown>).total_lessons;
  t.equal((await send('course.generation.completed', first)).outcome, 'applied', 'a completion without total_lessons is accepted');
  const again = completed('course_regen_3', '2026-12-02T09:00:00Z');
  delete (again as Record<string, unknown>).total_lessons;
  t.equal((await send('course.generation.completed', again)).outcome, 'applied');
  const bumped = (await eventsOf((await rootOf('course_regen_3')).id)).at(-1);
  t.match(bumped.payload.changelog, /lesson count not given/);
});

t.test('when a regeneration and a staging deployment arrive in either order, then the distribution ends the same', async (t) => {
  const deployment = (courseId: string) => deployedStaging(courseId, '2026-12-03T10:00:00.000Z', `https://staging.brain.falklabs.de/courses/${courseId}`);
  t.equal((await send('course.generation.completed', completed('course_order_a', '2026-12-01T09:00:00Z'))).outcome, 'applied');
  t.equal((await send('course.deployed.staging', deployment('course_order_a'))).outcome, 'applied');
  t.equal((await send('course.generation.completed', completed('course_order_a', '2026-12-02T09:00:00Z'))).outcome, 'applied');

  t.equal((await send('course.generation.completed', completed('course_order_b', '2026-12-01T09:00:00Z'))).outcome, 'applied');
  t.equal((await send('course.generation.completed', completed('course_order_b', '2026-12-02T09:00:00Z'))).outcome, 'applied');
  t.equal((await send('course.deployed.staging', deployment('course_order_b'))).outcome, 'applied');

  const [a, b] = [await rootOf('course_order_a'), await rootOf('course_order_b')];
  const visible = (row: any) => ({ version: row.version, staging_deployed_at: new Date(row.staging_deployed_at).toISOString(), row_version: row.row_version });
  t.strictSame(visible(a), visible(b));
  t.strictSame(visible(a), { version: 'v2', staging_deployed_at: '2026-12-03T10:00:00.000Z', row_version: 3 });
  t.equal(a.staging_url, 'https://staging.brain.falklabs.de/courses/course_order_a');
  t.equal(b.staging_url, 'https://staging.brain.falklabs.de/courses/course_order_b');
});

t.test('when a completion carries unknown fields and a BCP 47 language such as zh-Hant, then it is applied', async (t) => {
  const payload = completed('course_lenient_1', '2026-12-01T09:00:00Z', { language: 'zh-Hant', title: 'Banking Alternatives', difficulty: 'advanced' });
  delete (payload as Record<string, unknown>).total_lessons;
  t.equal((await send('course.generation.completed', payload)).outcome, 'applied');
  t.match(await rootOf('course_lenient_1'), { language: 'zh-Hant', slug: 'banking-alternatives' });
});
