/**
 * A frozen leader (SIGSTOP: its process and its sockets stay, so neither TCP keepalive nor PostgreSQL notice) does
 * not keep the relay lock: its heartbeat stops, a standby ends the holder's stale backend and takes over within
 * OUTBOX_LOCK_STALE_MS + OUTBOX_LOCK_RETRY_MS; the old leader, thawed, finds its session gone and steps down, and
 * nothing is on the stream twice.
 */
import { errors } from '@nats-io/nats-core';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { callService } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { streamEvents, waitFor } from '../helpers/event-stream.js';
import { connectTestNats, natsNamespace } from '../helpers/nats.js';
import { serviceEnv, startServiceProcess, type ServiceProcess } from '../helpers/service-process.js';
import { resolveNats } from '../helpers/services.js';

const LOCK_RETRY_MS = 500;
const STALE_MS = 2000;

const db = await createTestDatabase(t);
const namespace = natsNamespace();
const env = serviceEnv(
  t,
  { databaseUrl: db.url, natsUrl: (await resolveNats()).url, subjectPrefix: namespace.id },
  { OUTBOX_LOCK_RETRY_MS: String(LOCK_RETRY_MS), OUTBOX_LOCK_STALE_MS: String(STALE_MS), OUTBOX_MAX_BACKOFF_MS: '500', CONSUMER_ENABLED: 'false' },
);
const stream = loadConfig(env).stream.name;
const nc = await connectTestNats(t);

/** Creates a distribution; a request that went to the frozen instance times out and is sent again (a new course). */
async function createSomewhere(name: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const reply = await callService(nc, namespace.id, 'frozen', 'create', { course_id: `course_${name}_${attempt}`, title: `Kurs ${name}`, language: 'de' }, { timeout: 1000 });
      if (reply.status === 200) return (reply.body as { id: string }).id;
      throw new Error(`create failed: ${JSON.stringify(reply.body)}`);
    } catch (err) {
      if (!(err instanceof errors.TimeoutError || (err instanceof Error && err.cause instanceof errors.TimeoutError))) throw err;
    }
  }
}

const rows = async () => (await db.query<{ event_id: string; published_at: Date | null }>('select event_id, published_at from outbox_event order by id')).rows;

t.test('when the leader is frozen, then a standby takes over within the stale deadline, and the thawed leader steps down without duplicates', async (t) => {
  const first = startServiceProcess(t, env);
  await first.waitForLog('serving requests');
  await first.waitForLog('outbox relay active (holds the relay lock)');
  const second = startServiceProcess(t, env);
  await second.waitForLog('serving requests');
  await second.waitForLog(/outbox relay standby/);
  const leader: ServiceProcess = first;

  await createSomewhere('before');
  await waitFor('the first event published', async () => (await rows()).every((r) => r.published_at));

  process.kill(leader.pid, 'SIGSTOP');
  const frozenAt = Date.now();
  t.teardown(() => void process.kill(leader.pid, 'SIGCONT'));
  const ids = [await createSomewhere('frozen_1'), await createSomewhere('frozen_2')];
  await waitFor(
    'the events created while the leader is frozen on the stream',
    async () => {
      const subjects = (await streamEvents(nc, stream)).map((e) => e.subject);
      return ids.every((id) => subjects.some((s) => s.endsWith(id)));
    },
    STALE_MS + LOCK_RETRY_MS + 8000,
  );
  t.ok(Date.now() - frozenAt < STALE_MS + LOCK_RETRY_MS + 8000, `published ${Date.now() - frozenAt} ms after the freeze`);
  const takeover = await second.waitForLog('outbox relay active (holds the relay lock)', 1000);
  t.ok(takeover, 'the standby took over');
  t.match(
    second.lines().find((l) => /ended the relay lock holder/.test(String(l.msg))),
    { level: 40, stale_ms: STALE_MS },
    'after ending the stale holder (warn)',
  );

  process.kill(leader.pid, 'SIGCONT');
  await leader.waitForLog(/outbox relay lost the relay lock/, 10_000);
  await waitFor('the old leader back as standby', () => leader.lines().filter((l) => /outbox relay standby/.test(String(l.msg))).length > 0, 10_000);
  await createSomewhere('after');
  await waitFor('everything published', async () => (await rows()).every((r) => r.published_at), 15_000);
  await new Promise((resolve) => setTimeout(resolve, 1000)); // anything the thawed leader still had in hand

  const events = await streamEvents(nc, stream);
  const committed = await rows();
  t.equal(events.length, committed.length, `${committed.length} committed events, as many on the stream`);
  t.equal(new Set(events.map((e) => e.headers['Nats-Msg-Id'])).size, events.length, 'none twice');
  t.notOk(
    leader.lines().some((l, i, all) => /outbox relay active/.test(String(l.msg)) && i > all.findIndex((x) => /lost the relay lock/.test(String(x.msg)))),
    'the old leader did not take the lock back',
  );
});
