import t from 'tap';
import pg from 'pg';
import { errors } from '@nats-io/nats-core';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../src/config.js';
import { callService, type Reply } from '../helpers/app.js';
import { generationCompleted, publishCourseEvent } from '../helpers/course-events.js';
import { createTestDatabase } from '../helpers/database.js';
import { streamEvents, waitFor, type StoredEvent } from '../helpers/event-stream.js';
import { connectTestNats, natsNamespace } from '../helpers/nats.js';
import { serviceEnv, startServiceProcess } from '../helpers/service-process.js';
import { resolveNats } from '../helpers/services.js';

// The real process (src/main.ts) gets SIGTERM in the middle of a burst of requests and consumed events, is started
// again, and what every caller was told is compared with what is in the database and on the event stream.

/** 'ok', 'shutting_down' (503 SHUTTING_DOWN), 'no_responders', 'timeout', or `<status> <code>` of another reply. */
type Outcome = string;

interface Sent {
  outcome: Outcome;
  /** The reply (or refusal) came after SIGTERM was sent. */
  afterSignal: boolean;
}

const db = await createTestDatabase(t);
const namespace = natsNamespace();
const env = serviceEnv(t, { databaseUrl: db.url, natsUrl: (await resolveNats()).url, subjectPrefix: namespace.id }, { CONSUMER_ACK_WAIT_MS: '2000' });
const config = loadConfig(env);
const nc = await connectTestNats(t);

let signalledAt = 0;
async function send(operation: string, body: object, timeout = 8000): Promise<Sent & { reply?: Reply<any> }> {
  try {
    const reply = await callService(nc, namespace.id, 'brain_prod', operation, body, { timeout });
    const outcome: Outcome = reply.status === 200 ? 'ok' : reply.body.error?.code === 'SHUTTING_DOWN' ? 'shutting_down' : `${reply.status} ${reply.body.error?.code}`;
    return { outcome, reply, afterSignal: signalledAt > 0 };
  } catch (err) {
    if (err instanceof errors.RequestError && err.isNoResponders()) return { outcome: 'no_responders', afterSignal: signalledAt > 0 };
    if (err instanceof errors.TimeoutError || (err instanceof Error && err.cause instanceof errors.TimeoutError)) return { outcome: 'timeout', afterSignal: signalledAt > 0 };
    throw err;
  }
}

const count = (sent: Sent[], outcome: Outcome) => sent.filter((s) => s.outcome === outcome).length;

t.test('when SIGTERM arrives during a burst, then every acknowledged request and consumed event has its effect and its event exactly once, and the exit code is 0', async (t) => {
  const first = startServiceProcess(t, env);
  await first.waitForLog('serving requests');
  const pages: string[] = [];
  for (let i = 1; i <= 4; i++) pages.push((await send('create', { course_id: `course_page_${i}`, title: `Seite ${i}`, language: 'de' })).reply!.body.id);

  const creates: (Sent & { courseId: string; id?: string })[] = [];
  const views: (Sent & { id: string })[] = [];
  const published: string[] = [];
  let running = true;
  const requester = async (worker: number) => {
    for (let i = 0; running; i++) {
      if (i % 2 === 0) {
        const courseId = `course_burst_${worker}_${i}`;
        const sent = await send('create', { course_id: courseId, title: `Kurs ${worker} ${i}`, language: 'de' });
        creates.push({ ...sent, courseId, id: sent.reply?.status === 200 ? sent.reply.body.id : undefined });
      } else {
        const id = pages[(worker + i) % pages.length]!;
        views.push({ ...(await send('log_view', { id, referrer_category: 'direct' })), id });
      }
      if (signalledAt > 0) await sleep(50); // refused at once from here on: no need to spin
    }
  };
  const publisher = async () => {
    for (let i = 0; running; i++) {
      const courseId = `course_event_${i}`;
      await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted(courseId, { title: `Generierter Kurs ${i}` }));
      published.push(courseId);
      await sleep(5);
    }
  };
  const workers = [...Array.from({ length: 16 }, (_, w) => requester(w)), publisher()];

  await waitFor('the burst to be under way', () => count(creates, 'ok') >= 40 && count(views, 'ok') >= 40 && published.length >= 60, 15_000);
  signalledAt = Date.now();
  first.kill('SIGTERM');
  const code = await first.exited;
  const stopMs = Date.now() - signalledAt;
  await sleep(200);
  running = false;
  await Promise.all(workers);
  t.equal(code, 0, `exit code 0 (stopped in ${stopMs} ms)`);
  const stopLines = first
    .lines()
    .filter((l) => l.time >= signalledAt - 50 && (l.step || l.msg === 'stopped'))
    .sort((a, b) => a.time - b.time);
  t.comment(stopLines.map((l) => `${l.time - signalledAt} ms ${l.step ?? l.msg}`).join('; '));
  t.ok(first.lines().some((l) => l.msg === 'stopped'));
  t.notOk(
    first.lines().some((l) => l.level >= 50),
    'nothing logged as an error',
  );

  const all = [...creates, ...views];
  t.equal(count(all, 'timeout'), 0, 'no request was left unanswered: each was answered or refused');
  t.same(
    [...new Set(all.map((s) => s.outcome))].filter((o) => !['ok', 'shutting_down', 'no_responders'].includes(o)),
    [],
    'no other outcome than success, 503 SHUTTING_DOWN or no responders',
  );
  t.ok(
    all.some((s) => s.outcome === 'ok' && s.afterSignal),
    'requests in flight at the signal were answered after it',
  );
  t.ok(
    all.some((s) => s.outcome !== 'ok' && s.afterSignal),
    'later ones were refused',
  );
  t.comment(`creates ${creates.length} (ok ${count(creates, 'ok')}), views ${views.length} (ok ${count(views, 'ok')}), events published ${published.length}`);

  // The same configuration again: it takes the rest of the consumed events (unacked ones come back after
  // ack_wait) and relays whatever the first left in the outbox.
  const rowsOfCourses = async (pattern: string) =>
    (await db.query<{ course_id: string; n: number }>(`select course_id, count(*)::int as n from distribution where course_id like $1 group by course_id`, [pattern])).rows;
  const leftToSecond = published.length - (await rowsOfCourses('course_event_%')).length;
  t.ok(leftToSecond > 0, `the first instance stopped with consumed events still to do (${leftToSecond} of ${published.length})`);
  const second = startServiceProcess(t, env);
  await second.waitForLog('serving requests');
  await waitFor('every consumed event processed', async () => (await rowsOfCourses('course_event_%')).length === published.length, 20_000);
  await waitFor('the outbox relayed', async () => (await db.query(`select 1 from outbox_event where published_at is null limit 1`)).rowCount === 0, 20_000);

  const events = await streamEvents(nc, config.stream.name);
  const byType = (type: string) => events.filter((e) => e.body.type === type);
  const countBy = (list: StoredEvent[], key: (e: StoredEvent) => string) => list.reduce((m, e) => m.set(key(e), (m.get(key(e)) ?? 0) + 1), new Map<string, number>());
  const createdPerId = countBy(byType('distribution.created'), (e) => e.body.payload.distribution_id);
  const createdPerCourse = countBy(byType('distribution.created'), (e) => e.body.payload.course_id);

  const acknowledged = creates.filter((c) => c.outcome === 'ok');
  const { rows: ackedRows } = await db.query<{ id: string }>(`select id from distribution where id = any($1)`, [acknowledged.map((c) => c.id)]);
  t.equal(ackedRows.length, acknowledged.length, `every acknowledged create has its row (${acknowledged.length})`);
  t.same(
    acknowledged.filter((c) => createdPerId.get(c.id!) !== 1).map((c) => c.id),
    [],
    'and exactly one distribution.created on the stream',
  );
  const burstRows = new Map((await rowsOfCourses('course_burst_%')).map((r) => [r.course_id, r.n]));
  t.same(
    creates.filter((c) => (burstRows.get(c.courseId) ?? 0) > 1 || (createdPerCourse.get(c.courseId) ?? 0) > 1).map((c) => c.courseId),
    [],
    'no create, answered or refused, had its effect twice',
  );
  t.same(
    creates.filter((c) => c.outcome !== 'ok' && burstRows.has(c.courseId)).map((c) => c.courseId),
    [],
    'a refused create had no effect',
  );

  const eventRows = await rowsOfCourses('course_event_%');
  t.same(
    eventRows.filter((r) => r.n !== 1),
    [],
    `every consumed course.generation.completed created exactly one distribution (${published.length})`,
  );
  t.same(
    published.filter((courseId) => createdPerCourse.get(courseId) !== 1),
    [],
    'with exactly one distribution.created each',
  );

  const { rows: counted } = await db.query<{ id: string; view_count: number }>(`select id, view_count::int as view_count from distribution where id = any($1) order by id`, [
    pages,
  ]);
  const lastViewed = new Map(byType('distribution.viewed').map((e) => [e.body.payload.distribution_id as string, e.body.payload.view_count as number]));
  for (const row of counted) {
    const acked = views.filter((v) => v.id === row.id && v.outcome === 'ok').length;
    t.equal(row.view_count, acked, `${row.id}: view_count equals the acknowledged views (${acked})`);
    t.equal(lastViewed.get(row.id), row.view_count, 'and the last distribution.viewed carries that total');
  }

  second.kill('SIGTERM');
  t.equal(await second.exited, 0, 'the second instance stops cleanly too');
});

t.test('when the stop cannot finish within SHUTDOWN_TIMEOUT_MS, then the process logs what it abandons and exits 1', async (t) => {
  const service = startServiceProcess(t, { ...env, SHUTDOWN_TIMEOUT_MS: '1500', OUTBOX_FLUSH_TIMEOUT_MS: '500' });
  await service.waitForLog('serving requests');
  const page = (await send('create', { course_id: 'course_stuck', title: 'Festgehalten', language: 'de' })).reply!.body.id as string;
  // A transaction of ours holds the row: the view's counter flush waits for it, and so does the stop.
  const holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
  t.teardown(() => holder.end());
  await holder.query('begin');
  await holder.query('select 1 from distribution where id = $1 for update', [page]);
  const view = send('log_view', { id: page }, 4000);
  await waitFor('the view to wait for the lock', async () => (await db.query(`select 1 from pg_locks where not granted`)).rowCount! > 0);

  const signalled = Date.now();
  service.kill('SIGTERM');
  t.equal(await service.exited, 1, 'exit code 1');
  const took = Date.now() - signalled;
  t.ok(took >= 1400 && took < 5000, `at the deadline (${took} ms)`);
  const abandoned = service.lines().find((l) => l.msg === 'stop did not finish within SHUTDOWN_TIMEOUT_MS; abandoning the rest');
  t.match(
    abandoned,
    { level: 50, timeout_ms: 1500, abandoned: { step: 'closing intake, answering the requests in flight', requests_in_flight: 1, counts_unwritten: 1 } },
    'the log names the step and the work abandoned',
  );
  await holder.query('rollback');
  t.equal((await view).outcome, 'timeout', 'the abandoned request was never answered');
});
