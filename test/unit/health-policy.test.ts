import t from 'tap';
import { consumerCheck, countersCheck, judgeHealth, migrationsCheck, relayCheck, type HealthCheck } from '../../src/application/health-policy.js';

const ok = <T>(value: T) => ({ ok: true as const, value, latencyMs: 1 });
const check = (state: HealthCheck['state'], reason?: string): HealthCheck => ({ state, latency_ms: 0, reason });

t.test('when any check is down, then the instance is down; else degraded if any is; disabled checks count as ok', async (t) => {
  t.same(judgeHealth({ a: check('ok'), b: check('disabled') }), { status: 'ok', reasons: [] });
  t.same(judgeHealth({ a: check('degraded', 'slow'), b: check('disabled') }), { status: 'degraded', reasons: ['a: slow'] });
  t.same(judgeHealth({ a: check('degraded', 'slow'), b: check('down', 'gone') }), { status: 'down', reasons: ['a: slow', 'b: gone'] });
});

t.test('when the database lacks a migration, then migrations are down; when it has one this release does not know, degraded', async (t) => {
  t.equal(migrationsCheck(ok({ pending: ['M2'], unknown: [] })).state, 'down');
  t.equal(migrationsCheck(ok({ pending: [], unknown: ['M9'] })).state, 'degraded');
  t.equal(migrationsCheck(ok({ pending: [], unknown: [] })).state, 'ok');
});

t.test('when the consumer is paused or not pulling, then it is degraded; disabled when turned off', async (t) => {
  const seen = { enabled: true as const, durable: 'd', paused: false, pulling: true, info: ok({}) };
  t.equal(consumerCheck(seen).state, 'ok');
  t.match(consumerCheck({ ...seen, paused: true }), { state: 'degraded', reason: /paused/ });
  t.match(consumerCheck({ ...seen, pulling: false }), { state: 'degraded', reason: /not pulling/ });
  t.match(consumerCheck({ ...seen, info: { ok: false, error: 'consumer not found', latencyMs: 1 } }), { state: 'degraded', reason: /consumer not found/ });
  t.equal(consumerCheck({ enabled: false }).state, 'disabled');
});

t.test('when nobody holds the relay lock, then the relay is degraded, whatever this instance does', async (t) => {
  t.equal(relayCheck('standby', ok({ pid: 7, applicationName: 'course-distribution-relay', clientAddr: null })).state, 'ok');
  t.match(relayCheck('disabled', ok(null)), { state: 'degraded', here: 'disabled', reason: /RELAY_ENABLED=false/ });
});

t.test('when the last counter flush failed, then counters are degraded with its error', async (t) => {
  const idle = { queued: 0, flushing: 0, lastFlushAt: null, lastFlushOk: null, lastError: null };
  t.equal(countersCheck({ views: idle, clicks: idle }).state, 'ok');
  t.match(countersCheck({ views: { ...idle, lastFlushOk: false, lastError: 'connection refused' }, clicks: idle }), {
    state: 'degraded',
    reason: 'last views flush failed: connection refused',
  });
});
