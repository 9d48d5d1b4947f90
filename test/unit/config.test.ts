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
