import t from 'tap';
import { nanos } from '@nats-io/nats-core';
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { startDedupCleanup } from '../../src/application/dedup-cleanup.js';
import type { ProcessOutcome } from '../../src/messaging/upstream-consumer.js';
import { startTestApp } from '../helpers/app.js';
import { generationCompleted, publishCourseEvent } from '../helpers/course-events.js';
import { waitFor } from '../helpers/event-stream.js';
import { connectTestNats, deleteStreamQuietly, natsNamespace } from '../helpers/nats.js';

// CourseFactory's stream with a 1 s duplicate window, so a re-publish after the window is stored again.
const DUPLICATE_WINDOW_MS = 1000;
const namespace = natsNamespace();
const courseStream = namespace.stream('COURSE');
const nc = await connectTestNats(t);
await (
  await jetstreamManager(nc)
).streams.add({
  name: courseStream,
  subjects: [namespace.subject('course.>')],
  storage: StorageType.File,
  retention: RetentionPolicy.Limits,
  duplicate_window: nanos(DUPLICATE_WINDOW_MS),
});
t.teardown(() => deleteStreamQuietly(app.config.nats.url, courseStream));

const outcomes: { seq: number; outcome: ProcessOutcome }[] = [];
const app = await startTestApp(t, {
  namespace,
  env: { COURSE_STREAM: courseStream, COURSE_STREAM_CREATE: 'false' },
  overrides: { consumerHooks: { beforeAck: (d, outcome) => (outcomes.push({ seq: d.streamSeq, outcome }), true) } },
});
t.teardown(() => deleteStreamQuietly(app.config.nats.url, app.config.stream.name));
const outcomeOf = (seq: number) => waitFor(`outcome of ${seq}`, () => outcomes.find((o) => o.seq === seq)?.outcome);

t.test('when an event is re-published after the stream forgot its id, then it gets a new sequence and still has no second effect', async (t) => {
  const payload = generationCompleted('course_window_1', { title: 'Fenster Kurs' });
  const id = 'evt_cf_window_1';
  const publish = () => publishCourseEvent(nc, namespace.id, 'course.generation.completed', payload, { id });
  const jsm = await jetstreamManager(nc);
  /**
   * Re-publishes until JetStream stores a copy again. The server forgets ids on a timer, which fires late on a loaded
   * machine, so a fixed sleep just past the window is a guess. Each attempt meanwhile is dropped (neither stored nor
   * restarting the window); the copy that is stored must not have been stored before the window had passed.
   * Returns the copy and when it was sent (no later than the server stored it).
   */
  const publishOnceForgotten = async (lastStoredSentAt: number) => {
    let dropped = 0;
    const copy = await waitFor('the stream to forget the id', async () => {
      const sentAt = Date.now();
      const attempt = await publish();
      if (!attempt.duplicate) return { ...attempt, sentAt };
      dropped++;
      return undefined;
    });
    t.ok(Date.now() - lastStoredSentAt >= DUPLICATE_WINDOW_MS, `stored again only after the window (${dropped} attempts dropped before)`);
    return copy;
  };

  let lastStoredSentAt = Date.now();
  const first = await publish();
  // Published at once, not after the outcome, so a slow first delivery cannot push it out of the window.
  const within = await publish();
  t.ok(within.duplicate, 'inside the window JetStream drops it');
  t.equal(within.seq, first.seq, 'the PubAck names the stored original');
  t.equal(await outcomeOf(first.seq), 'applied');
  for (let i = 0; i < 3; i++) {
    const after = await publishOnceForgotten(lastStoredSentAt);
    lastStoredSentAt = after.sentAt;
    t.notOk(after.duplicate, 'after the window it is stored again');
    t.not(after.seq, first.seq);
    const stored = await jsm.streams.getMessage(courseStream, { seq: after.seq });
    t.equal(stored?.header?.get('Nats-Msg-Id'), id, 'the stored copy carries the same Nats-Msg-Id');
    t.equal(await outcomeOf(after.seq), 'duplicate', `copy ${i + 1} recognised by our dedup table`);
  }
  const { rows } = await app.db.query(`select count(*)::int as n from distribution where course_id = 'course_window_1'`);
  t.equal(rows[0]!.n, 1);
  const events = await app.db.query(
    `select count(*)::int as n from outbox_event where event_type = 'distribution.created' and envelope->'payload'->>'course_id' = 'course_window_1'`,
  );
  t.equal(events.rows[0]!.n, 1, 'one distribution.created');
});

t.test('when dedup rows are older than the retention, then cleanup deletes them in bounded batches and keeps the rest', async (t) => {
  await app.db.query(
    `insert into processed_message (consumer, message_id, stream, stream_seq, subject, processed_at)
     select 'distribution_consumer', 'old_' || n, 'COURSE', n, 'course.generation.completed', now() - interval '30 days' from generate_series(1, 25) n`,
  );
  const before = (await app.db.query(`select count(*)::int as n from processed_message`)).rows[0]!.n;
  const cleanup = startDedupCleanup(app.app.deps, { retentionMs: 7 * 24 * 3_600_000, intervalMs: 3_600_000, batchSize: 10 }, app.app.deps.log);
  t.teardown(() => cleanup.stop());
  t.equal(await cleanup.runOnce(), 25, 'all 25 old rows, in batches of 10');
  const after = (await app.db.query(`select count(*)::int as n from processed_message`)).rows[0]!.n;
  t.equal(after, before - 25, 'recent claims stay');
});
