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
const outcomeOf = (seq: number) => waitFor(`outcome of seq ${seq}`, () => outcomes.find((o) => o.seq === seq)?.outcome);

/** Rows as PostgreSQL returns them. */
async function distributionsOf(courseId: string): Promise<any[]> {
  const { rows } = await db.query(`select * from distribution where course_id = $1 and deleted_at is null order by id`, [courseId]);
  return rows;
}

t.test('when a course generation completes, then its distribution is created with slug, SEO, CTA and a distribution.created event', async (t) => {
  const published = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_gen_1'), {
    correlationId: 'req_cf_gen_1',
  });
  t.equal(await outcomeOf(published.seq), 'applied');
  const [row, ...others] = await distributionsOf('course_gen_1');
  t.equal(others.length, 0, 'one distribution');
  t.match(row, {
    tenant_id: 'brain_prod',
    slug: 'alternativen-zu-banken-und-sparkassen',
    language: 'de',
    title: 'Alternativen zu Banken & Sparkassen',
    visibility: 'private',
    version: 'v1',
    derived_from: null,
    target_group: ['private_individuals'],
    cta: { label: 'Jetzt einschreiben', type: 'primary_button', url: null },
  });
  t.equal(row.seo.meta_title, 'Alternativen zu Banken & Sparkassen');
  t.ok(row.seo.meta_description.length > 0 && row.seo.meta_description.length <= 160, 'meta description from the course description');
  t.ok(row.seo.meta_keywords.includes('private_individuals') && row.seo.meta_keywords.includes('alternativen'), 'keywords from title and audiences');

  const { rows: events } = await db.query(`select envelope from outbox_event where aggregate_id = $1`, [row.id]);
  t.equal(events.length, 1);
  const envelope = events[0]!.envelope;
  t.equal(envelope.type, 'distribution.created');
  t.ok(validator.validate('distribution.created', envelope).ok, 'the envelope validates');
  t.equal(envelope.meta.causation_id, published.id, 'caused by the consumed event');
  t.equal(envelope.meta.correlation_id, 'req_cf_gen_1', 'correlated with the consumed event');

  const reply = await call('brain_prod', 'get', { id: row.id });
  t.equal(reply.status, 200, 'readable through the API');
});

t.test('when a course is deployed to staging, then every distribution of the course gets the staging URL', async (t) => {
  const created = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_stage_1', { title: 'Steuern sparen für Angestellte' }));
  await outcomeOf(created.seq);
  const [root] = await distributionsOf('course_stage_1');
  const variant = await call('brain_prod', 'create_micro_niche_variant', { parent_id: root.id, target_group: ['employees'] });
  t.equal(variant.status, 200);

  const staging = deployedStaging('course_stage_1');
  const deployed = await publishCourseEvent(nc, namespace.id, 'course.deployed.staging', staging, { token: 'course_stage_1' });
  t.equal(await outcomeOf(deployed.seq), 'applied', 'also with a trailing token on the subject');
  const rows = await distributionsOf('course_stage_1');
  t.equal(rows.length, 2);
  for (const row of rows) {
    t.equal(row.staging_url, staging.staging_url);
    t.equal(new Date(row.staging_deployed_at).toISOString(), new Date(staging.deployed_at).toISOString());
  }
  const { rows: updates } = await db.query(`select envelope from outbox_event where event_type = 'distribution.updated' and envelope->'payload'->>'distribution_id' = any($1)`, [
    rows.map((r) => r.id),
  ]);
  t.equal(updates.length, 2, 'one distribution.updated per distribution');
  for (const { envelope } of updates) {
    t.same(envelope.payload.updated_fields, ['staging_url', 'staging_deployed_at']);
    t.equal(envelope.meta.causation_id, deployed.id);
    t.ok(validator.validate('distribution.updated', envelope).ok);
  }
});

t.test('when the staging deployment arrives before the course is generated, then the distribution starts with it', async (t) => {
  const staging = deployedStaging('course_early_1', '2025-12-28T10:00:00Z');
  const deployed = await publishCourseEvent(nc, namespace.id, 'course.deployed.staging', staging);
  t.equal(await outcomeOf(deployed.seq), 'applied');
  t.equal((await distributionsOf('course_early_1')).length, 0, 'nothing to update yet');

  const created = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_early_1', { title: 'Frühstart Kurs' }));
  t.equal(await outcomeOf(created.seq), 'applied');
  const [row] = await distributionsOf('course_early_1');
  t.equal(row.staging_url, staging.staging_url, 'the remembered deployment was applied at creation');
  const { rows: events } = await db.query(`select event_type from outbox_event where aggregate_id = $1 order by id`, [row.id]);
  t.same(
    events.map((e) => e.event_type),
    ['distribution.created', 'distribution.updated'],
  );

  const older = await publishCourseEvent(nc, namespace.id, 'course.deployed.staging', deployedStaging('course_early_1', '2025-12-28T08:00:00Z', 'https://staging.example.org/old'));
  await outcomeOf(older.seq);
  t.equal((await distributionsOf('course_early_1'))[0].staging_url, staging.staging_url, 'an older deployment arriving late changes nothing');
});

t.test('when the same event is delivered three times, then it has one effect and the repeats are acked as duplicates', async (t) => {
  const payload = generationCompleted('course_dup_1', { title: 'Doppelt hält besser' });
  const id = 'evt_cf_duplicate_test_1';
  const first = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', payload, { id });
  t.equal(await outcomeOf(first.seq), 'applied');
  // Within the stream's duplicate window JetStream itself drops the re-publish (same sequence, nothing stored);
  // a copy without the header is stored anew and reaches us: our dedup key is then the envelope id.
  const again = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', payload, { id });
  t.ok(again.duplicate, 'JetStream dropped the re-publish within its window');
  const copy = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', payload, { id, msgId: null });
  const copy2 = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', payload, { id, msgId: null });
  t.not(copy.seq, first.seq, 'stored under a new sequence');
  t.equal(await outcomeOf(copy.seq), 'duplicate');
  t.equal(await outcomeOf(copy2.seq), 'duplicate');
  t.equal((await distributionsOf('course_dup_1')).length, 1);
  const { rows } = await db.query(`select count(*)::int as n from processed_message where message_id = $1`, [id]);
  t.equal(rows[0]!.n, 1, 'one claim');
});

t.test('when another completion arrives for a course that has its distribution, then nothing changes', async (t) => {
  const first = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_regen_1', { title: 'Erste Fassung' }));
  await outcomeOf(first.seq);
  const second = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_regen_1', { title: 'Zweite Fassung' }));
  t.equal(await outcomeOf(second.seq), 'no-op');
  const rows = await distributionsOf('course_regen_1');
  t.equal(rows.length, 1);
  t.equal(rows[0].title, 'Erste Fassung', 'editors keep what they have');
});

t.test('when an event of another course.* type arrives, then it is acked and ignored', async (t) => {
  const other = await publishCourseEvent(nc, namespace.id, 'course.archived', { course_id: 'course_x' });
  t.equal(await outcomeOf(other.seq), 'ignored');
});

t.test('when a consumed event is larger than a request may be, then it is still applied (events have their own limit)', async (t) => {
  // CourseFactory's payloads are not requests: 200 KiB of an extra field (unknown fields are accepted) is fine.
  const published = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_big_1', { lesson_outline: 'x'.repeat(200 * 1024) }));
  t.equal(await outcomeOf(published.seq), 'applied');
  t.equal((await distributionsOf('course_big_1')).length, 1);
});
