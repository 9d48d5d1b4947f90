import t from 'tap';
import { pino } from 'pino';
import { startProbeServer } from '../../src/http/probes.js';
import { startTestApp } from '../helpers/app.js';
import { cutDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/event-stream.js';
import { freePort } from '../helpers/nats.js';

const probe = async (port: number, path: string, method = 'GET') => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, body: method === 'HEAD' ? undefined : await res.json() };
};

t.test('when checks pass, fail, throw or hang, then /readyz names each failing one and /healthz stays 200', async (t) => {
  let stopping = false;
  const server = await startProbeServer({
    port: 0,
    host: '127.0.0.1',
    log: pino({ level: 'silent' }),
    checkTimeoutMs: 200,
    checks: {
      passes: () => undefined,
      instance: () => {
        if (stopping) throw new Error('stopping');
      },
      hangs: () => new Promise(() => undefined),
      rejects: () => Promise.reject(new Error('connection refused')),
    },
  });
  t.teardown(() => server.close());
  t.same(await probe(server.port, '/healthz'), { status: 200, body: { status: 'alive' } });
  t.same(await probe(server.port, '/readyz'), { status: 503, body: { status: 'not_ready', failing: { hangs: 'timed out after 200 ms', rejects: 'connection refused' } } });
  stopping = true;
  t.match(await probe(server.port, '/readyz'), { status: 503, body: { failing: { instance: 'stopping' } } });
  t.equal((await probe(server.port, '/readyz', 'HEAD')).status, 503, 'HEAD answers the same status');
  t.equal((await probe(server.port, '/metrics')).status, 404);
  t.equal((await probe(server.port, '/readyz', 'POST')).status, 405);
});

t.test('when the database stops answering, then /readyz is 503 naming it, and 200 again once it is back', async (t) => {
  const port = await freePort();
  const { db } = await startTestApp(t, { env: { OPS_HTTP_PORT: String(port), DB_ACQUIRE_TIMEOUT_MS: '500' } });
  t.same(await probe(port, '/readyz'), { status: 200, body: { status: 'ready' } }, 'ready once started');

  const outage = await cutDatabase(t, db);
  const down = await waitFor('readiness to fail', async () => {
    const r = await probe(port, '/readyz');
    return r.status === 503 ? (r.body as { failing: Record<string, string> }) : undefined;
  });
  t.same(Object.keys(down.failing), ['database'], 'only the database fails');
  t.equal((await probe(port, '/healthz')).status, 200, 'the process is still alive');

  await outage.restore();
  await waitFor('readiness to return', async () => (await probe(port, '/readyz')).status === 200);
  t.pass('ready again');
});
