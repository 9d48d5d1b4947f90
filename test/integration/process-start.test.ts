import t from 'tap';
import { callService } from '../helpers/app.js';
import { createTestDatabase, cutDatabase } from '../helpers/database.js';
import { connectTestNats, freePort, natsNamespace, startNatsServer } from '../helpers/nats.js';
import { serviceEnv, startServiceProcess } from '../helpers/service-process.js';

// The real process (src/main.ts) started before its dependencies: PostgreSQL refuses connections, and no NATS
// server listens on its port yet.

t.test('when PostgreSQL and NATS come up after the service, then it waits for each, logging every wait, and then serves', async (t) => {
  const db = await createTestDatabase(t);
  const outage = await cutDatabase(t, db);
  const port = await freePort();
  const namespace = natsNamespace();
  const env = serviceEnv(t, { databaseUrl: db.url, natsUrl: `nats://127.0.0.1:${port}`, subjectPrefix: namespace.id }, { STARTUP_TIMEOUT_MS: '20000' });
  const service = startServiceProcess(t, env);

  await service.waitForLog('waiting for PostgreSQL');
  await outage.restore();
  await service.waitForLog('waiting for NATS');
  await new Promise((r) => setTimeout(r, 1500)); // a few refused attempts more
  const server = await startNatsServer(t, { port });
  await service.waitForLog('serving requests');

  const nc = await connectTestNats(t, { servers: server.url });
  const created = await callService(nc, namespace.id, 'brain_prod', 'create', { course_id: 'course_late_start', title: 'Spät gestartet', language: 'de' });
  t.equal(created.status, 200, 'the service answers once its dependencies are there');

  const waits = (dependency: string) => service.lines().filter((l) => l.msg === `waiting for ${dependency}`);
  for (const dependency of ['PostgreSQL', 'NATS']) {
    t.ok(waits(dependency).length >= 1, `each wait for ${dependency} is logged`);
    t.ok(
      waits(dependency).every((l) => l.level === 40 && typeof l.reason === 'string' && l.retry_in_ms > 0),
      'as a warning with the reason and the delay',
    );
    t.ok(
      service.lines().some((l) => l.msg === `${dependency} reachable` && l.attempts > 1),
      `the end of the wait for ${dependency} is logged`,
    );
  }
  const delays = waits('NATS').map((l) => l.retry_in_ms as number);
  t.ok(delays.length >= 3 && delays.at(-1)! > delays[0]!, `the delay grows (${delays.join(', ')} ms)`);

  service.kill('SIGTERM');
  t.equal(await service.exited, 0, 'and it stops cleanly');
});

t.test('when NATS is still unreachable at STARTUP_TIMEOUT_MS, then the service exits 1 naming it', async (t) => {
  const db = await createTestDatabase(t);
  const port = await freePort();
  const env = serviceEnv(t, { databaseUrl: db.url, natsUrl: `nats://127.0.0.1:${port}`, subjectPrefix: natsNamespace().id }, { STARTUP_TIMEOUT_MS: '1500' });
  const began = Date.now();
  const service = startServiceProcess(t, env);
  t.equal(await service.exited, 1, 'exit code 1');
  t.ok(Date.now() - began < 15_000, 'soon after the timeout');
  const fatal = service.lines().find((l) => l.level === 60);
  t.match(fatal, { dependency: 'NATS', msg: 'NATS still unreachable after STARTUP_TIMEOUT_MS; exiting' }, 'one fatal line says what and why');
  t.ok(fatal?.waited_ms >= 1000, 'with how long it waited');
  t.ok(
    service.lines().some((l) => l.msg === 'waiting for NATS'),
    'after logging its waits',
  );
});

t.test('when told to stop while waiting for its dependencies, then it exits 0 at once', async (t) => {
  const db = await createTestDatabase(t);
  const port = await freePort();
  const env = serviceEnv(t, { databaseUrl: db.url, natsUrl: `nats://127.0.0.1:${port}`, subjectPrefix: natsNamespace().id }, { STARTUP_TIMEOUT_MS: '60000' });
  const service = startServiceProcess(t, env);
  await service.waitForLog('waiting for NATS');
  const signalled = Date.now();
  service.kill('SIGTERM');
  t.equal(await service.exited, 0, 'exit code 0');
  t.ok(Date.now() - signalled < 5000, 'without waiting out STARTUP_TIMEOUT_MS');
  t.ok(
    service.lines().some((l) => l.msg === 'stopped while waiting for the dependencies'),
    'and says so',
  );
});
