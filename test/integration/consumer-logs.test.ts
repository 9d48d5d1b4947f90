/**
 * The consumer's log over real NATS and PostgreSQL (src/messaging/consumer-log.ts): one line per consumed message
 * with its ids, outcome, delivery count and duration; applied and duplicate at info, dead-lettered at warn.
 */
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { generationCompleted, publishCourseEvent } from '../helpers/course-events.js';
import { waitFor } from '../helpers/event-stream.js';
import { captureLog } from '../helpers/log-capture.js';

const captured = captureLog('debug');
const { nc, namespace } = await startTestApp(t, { overrides: { log: captured.log } });
const DEBUG = 20;
const INFO = 30;
const WARN = 40;

/** The settle lines of the message at stream sequence `seq`, once there is one. */
const settledLines = (seq: number) => captured.lines().filter((line) => line.msg === 'message settled' && line.stream_seq === seq);
const settled = (seq: number) => waitFor(`the line of message ${seq}`, () => settledLines(seq)[0]);

t.test('when a course.generation.completed is applied, then one info line names it; the same envelope again logs duplicate', async (t) => {
  const payload = generationCompleted('course_logged_1', { title: 'Geheimer Titel im Ereignis' });
  // No Nats-Msg-Id: JetStream stores both copies, and the inbox recognises the envelope id.
  const first = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', payload, { id: 'evt_cf_logged_1', msgId: null });
  const line = await settled(first.seq);
  t.match(line, {
    level: INFO,
    component: 'upstream-consumer',
    subject: `${namespace.id}.course.generation.completed`,
    stream_seq: first.seq,
    message_id: 'evt_cf_logged_1',
    event_id: 'evt_cf_logged_1',
    course_id: 'course_logged_1',
    outcome: 'applied',
    delivery_count: 1,
    duration_ms: Number,
  });
  t.equal(settledLines(first.seq).length, 1, 'one line per message');
  t.notMatch(JSON.stringify(captured.lines()), 'Geheimer Titel', 'no title in the log');

  const again = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', payload, { id: 'evt_cf_logged_1', msgId: null });
  t.not(again.seq, first.seq, 'stored a second time');
  t.match(await settled(again.seq), { level: INFO, outcome: 'duplicate', event_id: 'evt_cf_logged_1', course_id: 'course_logged_1' });
});

t.test('when a message is poison, then its line says dead_lettered at warn with the dead letter and the reason', async (t) => {
  const poison = await publishCourseEvent(nc, namespace.id, 'course.generation.completed', {}, { raw: 'not json at all', msgId: 'msg_poison_1' });
  const line = await settled(poison.seq);
  t.match(line, { level: WARN, outcome: 'dead_lettered', message_id: 'msg_poison_1', dead_letter_id: Number, reason: /not_json/, delivery_count: 1 });
  t.notOk('event_id' in line, 'an undecodable message has no event id');
});

t.test('when a course event we do not consume arrives, then it is logged as ignored at debug', async (t) => {
  const other = await publishCourseEvent(nc, namespace.id, 'course.lesson.published', { course_id: 'course_logged_2' });
  t.match(await settled(other.seq), { level: DEBUG, outcome: 'ignored' });
});

t.test('when the consumer started, then it logged that it is consuming', async (t) => {
  t.ok(captured.lines().some((line) => line.level === INFO && line.msg === 'consuming' && line.component === 'upstream-consumer'));
});
