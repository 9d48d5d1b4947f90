import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createTestDatabase } from '../helpers/database.js';
import { connectTestNats, natsNamespace, startNatsServer } from '../helpers/nats.js';

t.test('when two test databases are created, then each is its own empty database', async (t) => {
  const first = await createTestDatabase(t);
  const second = await createTestDatabase(t);
  t.not(first.name, second.name);
  await first.query('create table marker (id int)');
  await first.query('insert into marker values (1)');
  const inFirst = await first.query(`select count(*)::int as n from marker`);
  t.equal(inFirst.rows[0]?.n, 1);
  const inSecond = await second.query(`select to_regclass('marker') as t`);
  t.equal(inSecond.rows[0]?.t, null, "the second database does not see the first one's table");
});

t.test('when a namespace is made, then its stream names and subjects are unique to it', async (t) => {
  const a = natsNamespace();
  const b = natsNamespace();
  t.not(a.stream('DISTRIBUTION'), b.stream('DISTRIBUTION'));
  t.match(a.stream('DISTRIBUTION'), /^DISTRIBUTION_T[0-9A-F]{8}$/);
  t.equal(a.subject('distribution.>'), `${a.id}.distribution.>`);

  const nc = await connectTestNats(t);
  const jsm = await jetstreamManager(nc);
  for (const ns of [a, b]) {
    await jsm.streams.add({ name: ns.stream('DISTRIBUTION'), subjects: [ns.subject('distribution.>')] });
    t.teardown(() => jsm.streams.delete(ns.stream('DISTRIBUTION')).catch(() => undefined));
  }
  t.pass('two files can hold their own DISTRIBUTION stream on one server at once');
});

t.test('when a private nats-server is started from a config, then its users and permissions apply', async (t) => {
  const server = await startNatsServer(t, {
    config: `accounts { APP { jetstream: enabled, users: [
      { user: writer, password: w-secret, permissions: { publish: { allow: ["allowed.>", "_INBOX.>"] }, subscribe: { allow: ["_INBOX.>", "allowed.>"] } } }
    ] } }`,
  });
  await t.rejects(connect({ servers: server.url, user: 'writer', pass: 'wrong', reconnect: false }), 'a wrong password is refused');

  const nc = await connect({ servers: server.url, user: 'writer', pass: 'w-secret' });
  t.teardown(() => nc.close());
  const sub = nc.subscribe('allowed.x', { max: 1 });
  nc.publish('allowed.x', 'hi');
  for await (const m of sub) t.equal(m.string(), 'hi', 'an allowed subject works');
  await t.rejects(nc.request('denied.x', 'hi', { timeout: 1000 }), /Permissions Violation/, 'a denied subject is refused');
});

t.test('when a private nats-server is stopped and restarted, then clients reconnect to the same port', async (t) => {
  const server = await startNatsServer(t);
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  t.teardown(() => nc.close());
  const reconnected = (async () => {
    for await (const status of nc.status()) if (status.type === 'reconnect') return true;
    return false;
  })();
  await server.stop();
  await server.restart();
  t.ok(await reconnected, 'the client reported a reconnect');
  const sub = nc.subscribe('ping', { max: 1, callback: (_e, m) => void m.respond('pong') });
  const reply = await nc.request('ping', '', { timeout: 5000 });
  t.equal(reply.string(), 'pong');
  sub.unsubscribe();
});
