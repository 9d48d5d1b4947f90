import t from 'tap';
import { loadConfig } from '../../src/config.js';

t.test('when nothing is set, then the documented defaults apply', async (t) => {
  const config = loadConfig({});
  t.equal(config.databaseUrl, 'postgresql://postgres@127.0.0.1:5432/postgres');
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
