/**
 * NATS for development (src/embedded/dev-nats-server.ts): a nats-server binary of this machine started on the
 * default address when nothing answers there, what answers already used as it is, and one paragraph when there is
 * neither.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { ensureDevNatsServer, NatsUnavailableError, tcpAnswers } from '../../src/embedded/dev-nats-server.js';
import { freePort, NATS_SERVER_BIN } from '../helpers/nats.js';
import { resolveNats } from '../helpers/services.js';

const log = pino({ level: 'silent' });

function storeDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cd-dev-nats-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'nats');
}

t.test('when nothing answers on the address and a binary is there, then a nats-server with JetStream is started there and stopped with stop()', async (t) => {
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  const store = storeDir(t);
  const server = await ensureDevNatsServer({ url, bin: NATS_SERVER_BIN, storeDir: store, log });
  t.ok(server, 'one was started');
  t.teardown(() => server?.stop());
  const nc = await connect({ servers: url });
  const account = await (await jetstreamManager(nc)).getAccountInfo();
  t.ok(account.limits, 'JetStream is enabled');
  await nc.close();
  t.ok(existsSync(join(store, 'jetstream')), 'keeping its streams in the store directory');
  await server?.stop();
  t.equal(await tcpAnswers('127.0.0.1', port), false, 'and it is gone after stop()');
});

t.test('when something already answers on the address, then nothing is started', async (t) => {
  const { url } = await resolveNats();
  t.equal(await ensureDevNatsServer({ url, bin: NATS_SERVER_BIN, storeDir: storeDir(t), log }), undefined);
});

t.test('when no binary is found, then it stops with one paragraph: what it tried, and the ways to get NATS', async (t) => {
  const url = `nats://127.0.0.1:${await freePort()}`;
  const error = await ensureDevNatsServer({ url, bin: 'nats-server-not-installed', storeDir: storeDir(t), log, path: '' }).catch((err: unknown) => err);
  t.type(error, NatsUnavailableError);
  const message = (error as Error).message;
  t.notMatch(message, /\n/, 'one paragraph');
  for (const part of [`nothing answers on ${url}`, 'nats-server-not-installed', 'apt-get install nats-server', 'docker compose up nats', 'NATS_URL=']) {
    t.ok(message.includes(part), `it says: ${part}`);
  }
});
