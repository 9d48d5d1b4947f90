/**
 * The embedded smoke test: the real process (src/main.ts) with DATABASE_URL unset runs on the embedded database,
 * migrated, and does its whole job there (a command, its event through the outbox relay, CourseFactory's event
 * through the consumer, an operator endpoint); started again, it finds its data. With NODE_ENV=production it
 * refuses to start without DATABASE_URL.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { callService } from '../helpers/app.js';
import { generationCompleted, publishCourseEvent } from '../helpers/course-events.js';
import { streamEvents, waitFor } from '../helpers/event-stream.js';
import { connectTestNats, deleteStreamQuietly, natsNamespace } from '../helpers/nats.js';
import { startServiceProcess } from '../helpers/service-process.js';
import { LOCAL_NATS_URL, resolveNats } from '../helpers/services.js';

const nats = await resolveNats();
const namespace = natsNamespace();
const dataDir = mkdtempSync(join(tmpdir(), 'cd-embedded-service-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
// No DATABASE_URL. NATS_URL only when the tests' NATS is not on the default address (then the service finds it there).
const env: Record<string, string> = {
  DATA_DIR: dataDir,
  NATS_SUBJECT_PREFIX: namespace.id,
  LOG_LEVEL: 'info',
  ...(nats.url !== LOCAL_NATS_URL && { NATS_URL: nats.url, COURSE_STREAM_CREATE: 'true' }),
};
const config = loadConfig(env);
t.teardown(async () => {
  await deleteStreamQuietly(nats.url, config.stream.name);
  await deleteStreamQuietly(nats.url, config.consumer.streamName);
});
const nc = await connectTestNats(t);

let createdId = '';

t.test('when DATABASE_URL is unset, then the service runs on the embedded database and does its whole job there', async (t) => {
  const service = startServiceProcess(t, env);
  await service.waitForLog('serving requests', 90_000);
  const warnings = service.lines().filter((l) => l.level === 40 && /DATABASE_URL|embedded/i.test(String(l.msg)));
  t.equal(warnings.length, 1, 'one warning line about the database');
  t.match(warnings[0], { msg: /DATABASE_URL is unset: running on an embedded PostgreSQL.*set DATABASE_URL=/, data_dir: join(dataDir, 'pglite'), created: true });
  t.equal(service.lines().find((l) => l.msg === 'database ready')?.migrations_applied.length > 0, true, 'migrated like a real database');

  const created = await callService(nc, namespace.id, 'brain_prod', 'create', { course_id: 'course_embedded', title: 'Eingebettet', language: 'de' });
  t.equal(created.status, 200, 'a command is served');
  createdId = created.body.id;
  await waitFor('distribution.created of the command on the stream', async () =>
    (await streamEvents(nc, config.stream.name)).find((e) => e.subject === `${namespace.id}.distribution.created.${createdId}`),
  );
  t.pass('its event reaches the stream through the outbox relay');

  await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_from_factory'), { token: 'course_from_factory' });
  const fromFactory = await waitFor('distribution.created of the consumed event', async () =>
    (await streamEvents(nc, config.stream.name)).find((e) => e.body.type === 'distribution.created' && e.body.payload.course_id === 'course_from_factory'),
  );
  t.ok(fromFactory, 'CourseFactory’s event is consumed and its distribution announced');

  const health = await nc.request(`${namespace.id}.course_distribution.ops.health`, '{}', { timeout: 10_000 });
  t.match(health.json(), { instance_id: String }, 'the operator endpoints answer');

  service.kill('SIGTERM');
  t.equal(await service.exited, 0, 'it stops cleanly');
  t.notOk(existsSync(join(dataDir, 'pglite.lock')), 'releasing the data directory');
});

t.test('when started again on the same DATA_DIR, then it opens the database it made, with its data', async (t) => {
  const service = startServiceProcess(t, env);
  await service.waitForLog('serving requests', 60_000);
  t.match(
    service.lines().find((l) => l.level === 40),
    { created: false },
    'a later start',
  );
  t.same(service.lines().find((l) => l.msg === 'database ready')?.migrations_applied, [], 'nothing left to migrate');
  const got = await callService(nc, namespace.id, 'brain_prod', 'get', { id: createdId });
  t.match(got, { status: 200, body: { id: createdId, title: 'Eingebettet' } });
  service.kill('SIGTERM');
  t.equal(await service.exited, 0);
});

t.test('when NODE_ENV is production and DATABASE_URL is unset, then it refuses to start, naming the key', async (t) => {
  const service = startServiceProcess(t, { ...env, NODE_ENV: 'production' });
  t.equal(await service.exited, 1);
  t.match(service.output(), /DATABASE_URL must be set when NODE_ENV=production/);
  t.notOk(existsSync(join(dataDir, 'pglite.lock')), 'without touching the embedded database');
});
