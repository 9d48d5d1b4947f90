import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { deployedStaging, generationCompleted, publishCourseEvent } from '../helpers/course-events.js';
import { deleteStreamQuietly } from '../helpers/nats.js';
import { waitFor } from '../helpers/event-stream.js';

// Two instances on one database and one durable consumer; each course gets, in random order: its generation,
// a second completion (a different event), two staging deployments, and a redelivered copy of the first one.
const first = await startTestApp(t, { env: { CONSUMER_CONCURRENCY: '32' } });
t.teardown(() => deleteStreamQuietly(first.config.nats.url, first.config.consumer.streamName));
await startTestApp(t, { db: first.db, namespace: first.namespace, env: { CONSUMER_CONCURRENCY: '32' } });
const { db, nc, namespace } = first;

t.test('when 1,000 events of 200 courses reach two instances, then each course has one root distribution with its latest staging URL', async (t) => {
  const courses = Array.from({ length: 200 }, (_, i) => `course_scale_${i}`);
  const events: (() => Promise<unknown>)[] = [];
  for (const course of courses) {
    const early = deployedStaging(course, '2025-12-28T09:30:00Z', `https://staging.example.org/${course}/1`);
    const late = deployedStaging(course, '2025-12-28T10:30:00Z', `https://staging.example.org/${course}/2`);
    const earlyId = `evt_cf_${course}_staging_1`;
    events.push(
      () => publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted(course, { title: `Skalierungskurs ${course}` }), { token: course }),
      () => publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted(course, { title: `Skalierungskurs ${course} neu` }), { token: course }),
      () => publishCourseEvent(nc, namespace.id, 'course.deployed.staging', early, { id: earlyId, token: course }),
      () => publishCourseEvent(nc, namespace.id, 'course.deployed.staging', late, { token: course }),
      () => publishCourseEvent(nc, namespace.id, 'course.deployed.staging', early, { id: earlyId, msgId: null, token: course }),
    );
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  await Promise.all(events.map((publish) => publish()));

  await waitFor('every message claimed', async () => (await db.query(`select count(*)::int as n from processed_message`)).rows[0]!.n === 800, 60_000);
  const roots = await db.query(
    `select course_id, count(*)::int as n, min(staging_url) as staging_url from distribution where derived_from is null and deleted_at is null group by course_id`,
  );
  t.equal(roots.rows.length, 200, 'every course has its distribution');
  t.ok(
    roots.rows.every((r) => r.n === 1),
    'exactly one root distribution per course',
  );
  t.ok(
    roots.rows.every((r) => r.staging_url === `https://staging.example.org/${r.course_id}/2`),
    'every course shows its latest staging deployment, whatever the arrival order',
  );
  const letters = await db.query(`select count(*)::int as n from dead_letter`);
  t.equal(letters.rows[0]!.n, 0, 'no dead letters');
  const created = await db.query(`select count(*)::int as n from outbox_event where event_type = 'distribution.created'`);
  t.equal(created.rows[0]!.n, 200, 'one distribution.created per course');
});
