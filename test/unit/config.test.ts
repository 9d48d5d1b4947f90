import { join, resolve } from 'node:path';
import t from 'tap';
import { EMBEDDED_POOL_MAX, loadConfig } from '../../src/config.js';

const checkout = resolve(import.meta.dirname, '../..');

t.test('when nothing is set, then the documented defaults apply', async (t) => {
  const config = loadConfig({});
  t.equal(config.databaseUrl, '', 'no database URL: the embedded database is started and fills it in');
  t.equal(config.nats.url, 'nats://127.0.0.1:4222');
  t.equal(config.nats.subjectPrefix, '');
  t.equal(config.maxRequestBytes, 65536);
  t.equal(config.logLevel, 'info');
  t.equal(config.logFormat, 'json');
});

t.test('when values are bad, then one error names every bad key', async (t) => {
  let message = '';
  try {
    loadConfig({ DB_POOL_MAX: 'many', MAX_REQUEST_BYTES: '10', NATS_SUBJECT_PREFIX: 'a.*', LOG_LEVEL: 'loud', LOG_FORMAT: 'xml' });
  } catch (err) {
    message = (err as Error).message;
  }
  t.match(message, /^Invalid configuration: /);
  for (const key of ['DB_POOL_MAX must be an integer', 'MAX_REQUEST_BYTES must be an integer', 'NATS_SUBJECT_PREFIX', 'LOG_LEVEL', 'LOG_FORMAT must be json or pretty']) {
    t.match(message, key, `names ${key}`);
  }
});

t.test('when values are given, then they are used', async (t) => {
  const config = loadConfig({ DB_POOL_MAX: '3', NATS_SUBJECT_PREFIX: 'dev.alice', READ_CACHE_TTL_MS: '0' });
  t.equal(config.db.poolMax, 3);
  t.equal(config.nats.subjectPrefix, 'dev.alice');
  t.equal(config.readCache.ttlMs, 0);
});

t.test('when the lifecycle keys are not set, then probes are off, the start waits 60 s and the stop may take 10 s', async (t) => {
  t.same(loadConfig({}).lifecycle, { opsHttpPort: undefined, startupTimeoutMs: 60_000, shutdownTimeoutMs: 10_000 });
  t.same(loadConfig({ OPS_HTTP_PORT: '9090', STARTUP_TIMEOUT_MS: '0', SHUTDOWN_TIMEOUT_MS: '30000' }).lifecycle, {
    opsHttpPort: 9090,
    startupTimeoutMs: 0,
    shutdownTimeoutMs: 30_000,
  });
});

t.test('when the relay flush would not fit in the stop, or a lifecycle key is out of range, then the start is refused', async (t) => {
  t.throws(() => loadConfig({ SHUTDOWN_TIMEOUT_MS: '5000' }), /OUTBOX_FLUSH_TIMEOUT_MS \(5000\) must be below SHUTDOWN_TIMEOUT_MS \(5000\)/);
  t.ok(loadConfig({ SHUTDOWN_TIMEOUT_MS: '5000', RELAY_ENABLED: 'false' }), 'without a relay there is no flush');
  t.throws(() => loadConfig({ OPS_HTTP_PORT: '70000' }), /OPS_HTTP_PORT must be an integer from 0 to 65535/);
  t.throws(() => loadConfig({ STARTUP_TIMEOUT_MS: 'soon' }), /STARTUP_TIMEOUT_MS must be an integer/);
});

t.test('when REPLY_SUBJECT_PREFIXES is not set, then replies go to `_INBOX.` and `_INBOX_<name>.` inboxes; a wildcard or empty list is refused', async (t) => {
  t.same(loadConfig({}).nats.replySubjectPrefixes, ['_INBOX.', '_INBOX_']);
  t.same(loadConfig({ REPLY_SUBJECT_PREFIXES: ' _INBOX_acme. , _INBOX. ' }).nats.replySubjectPrefixes, ['_INBOX_acme.', '_INBOX.']);
  t.throws(() => loadConfig({ REPLY_SUBJECT_PREFIXES: '_INBOX.>' }), /REPLY_SUBJECT_PREFIXES must be/);
  t.throws(() => loadConfig({ REPLY_SUBJECT_PREFIXES: ' , ' }), /REPLY_SUBJECT_PREFIXES must be/);
});

t.test('when DATABASE_URL is unset, then the embedded database in .data of the checkout is used, with its own pool size', async (t) => {
  const config = loadConfig({});
  t.same(config.local.embeddedDatabase, { dataDir: join(checkout, '.data', 'pglite') });
  t.equal(config.local.dataDir, join(checkout, '.data'));
  t.equal(config.db.poolMax, EMBEDDED_POOL_MAX);
  t.equal(loadConfig({ DB_POOL_MAX: '2' }).db.poolMax, 2, 'DB_POOL_MAX still decides when set');
});

t.test('when DATA_DIR is set, then the embedded data goes there (a relative path from the working directory)', async (t) => {
  t.same(loadConfig({ DATA_DIR: '/var/tmp/cd' }).local.embeddedDatabase, { dataDir: '/var/tmp/cd/pglite' });
  t.same(loadConfig({ DATA_DIR: 'here' }).local.natsServer?.storeDir, resolve(process.cwd(), 'here', 'nats'));
});

t.test('when DATABASE_URL is set, then it is used and nothing is embedded', async (t) => {
  const config = loadConfig({ DATABASE_URL: 'postgresql://app@db:5432/app' });
  t.equal(config.databaseUrl, 'postgresql://app@db:5432/app');
  t.equal(config.local.embeddedDatabase, undefined);
  t.equal(config.db.poolMax, 10);
});

t.test('when NODE_ENV is production and DATABASE_URL is unset, then the configuration is refused naming the key', async (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), { message: /DATABASE_URL must be set when NODE_ENV=production/ });
  const production = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://app@db:5432/app' });
  t.equal(production.local.natsServer, undefined, 'and production never starts a nats-server of its own');
  t.equal(production.consumer.createStream, false, 'nor creates CourseFactory’s stream');
});

t.test('when NATS_URL is unset, then a development nats-server may be started from NATS_SERVER_BIN, and the COURSE stream is created', async (t) => {
  const config = loadConfig({});
  t.same(config.local.natsServer, { bin: 'nats-server', storeDir: join(checkout, '.data', 'nats') });
  t.equal(config.nats.url, 'nats://127.0.0.1:4222', 'on the default address');
  t.equal(config.consumer.createStream, true);
  t.equal(loadConfig({ NATS_SERVER_BIN: '/opt/nats/nats-server' }).local.natsServer?.bin, '/opt/nats/nats-server');
  const remote = loadConfig({ NATS_URL: 'nats://nats:4222' });
  t.equal(remote.local.natsServer, undefined, 'with NATS_URL set, nothing is started');
  t.equal(remote.consumer.createStream, false);
});
