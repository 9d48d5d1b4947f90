/**
 * `ops.health` against real NATS and PostgreSQL: every check with its state and latency, scatter-gather across
 * instances on one namespace (and one instance by its own subject), a missing relay and a database outage.
 */
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { generationCompleted, publishCourseEvent } from '../helpers/course-events.js';
import { createTestDatabase } from '../helpers/database.js';
import { makeDatabaseUnavailable } from '../helpers/database-outage.js';
import { waitFor } from '../helpers/event-stream.js';
import { deleteStreamQuietly, natsNamespace } from '../helpers/nats.js';
import { opsGather, opsRequest } from '../helpers/ops.js';
import { resolveNats } from '../helpers/services.js';

const CHECKS = ['nats', 'database', 'migrations', 'consumer', 'relay', 'counters'];
const fast = { OUTBOX_LOCK_RETRY_MS: '100', CONSUMER_RETRY_BASE_MS: '100', CONSUMER_RETRY_MAX_MS: '300', DB_ACQUIRE_TIMEOUT_MS: '1000' };

t.test('when two instances share a namespace, then ops.health reaches both, ops.health.<instance id> reaches one, and both are ok', async (t) => {
  const db = await createTestDatabase(t);
  const namespace = natsNamespace();
  const nats = await resolveNats();
  t.teardown(() => deleteStreamQuietly(nats.url, namespace.stream('DISTRIBUTION')));
  const first = await startTestApp(t, { db, namespace, env: fast });
  const second = await startTestApp(t, { db, namespace, env: fast });
  await waitFor(
    'one relay active and both pulling',
    () => (first.app.relay!.active || second.app.relay!.active) && first.app.consumer!.status().pulling && second.app.consumer!.status().pulling,
  );

  const answers = await opsGather(first.nc, namespace.id, 'health');
  t.equal(answers.length, 2, 'one request, an answer from each instance');
  t.equal(new Set(answers.map((a) => a.instance_id)).size, 2, 'each with its own instance id');
  for (const answer of answers) {
    t.equal(answer.status, 'ok', `${answer.instance_id} ok (${answer.reasons.join('; ')})`);
    t.same(answer.reasons, []);
    t.same(Object.keys(answer.checks).sort(), [...CHECKS].sort(), 'every check');
    for (const name of CHECKS) {
      t.equal(answer.checks[name].state, 'ok', `${name} ok`);
      t.type(answer.checks[name].latency_ms, 'number', `${name} has latency_ms`);
    }
    t.equal(typeof answer.checks.nats.rtt_ms, 'number', 'NATS round trip');
    t.match(answer.checks.nats.server, /\d+$/, 'NATS server');
    t.same(answer.checks.migrations.pending, [], 'no pending migration');
    t.equal(answer.checks.consumer.pulling, true);
  }
  t.same(answers.map((a) => a.checks.relay.here).sort(), ['active', 'standby'], 'one active relay, one standby; both see the holder');

  for (const id of answers.map((a) => a.instance_id as string)) {
    const own = await opsRequest(first.nc, namespace.id, `health.${id}`);
    t.equal(own.status, 200);
    t.equal(own.body.instance_id, id, 'ops.health.<instance id> is answered by that instance');
  }
});

t.test('when no instance runs a relay, then health is degraded and names it; a disabled consumer says so', async (t) => {
  const { nc, namespace } = await startTestApp(t, { env: { ...fast, RELAY_ENABLED: 'false', CONSUMER_ENABLED: 'false' } });
  const { status, body } = await opsRequest(nc, namespace.id, 'health');
  t.equal(status, 200);
  t.equal(body.status, 'degraded');
  t.equal(body.checks.relay.state, 'degraded');
  t.equal(body.checks.relay.here, 'disabled', 'relay disabled here, said so');
  t.match(body.reasons, [/^relay: no instance holds the relay lock/]);
  t.equal(body.checks.consumer.state, 'disabled');
  t.equal(body.reasons.length, 1, 'a disabled consumer is no reason');
});

t.test('when the database is unavailable, then health is down, names the database, and shows the consumer paused as degraded', async (t) => {
  const { app, db, nc, namespace } = await startTestApp(t, { env: { ...fast, HEALTH_CHECK_TIMEOUT_MS: '1500' } });
  await waitFor('pulling', () => app.consumer!.status().pulling);
  const outage = await makeDatabaseUnavailable(t, db);
  // The consumer pauses when a message fails on the database: give it one.
  await publishCourseEvent(nc, namespace.id, 'course.generation.completed', generationCompleted('course_health_outage'));
  await waitFor('the consumer paused', () => app.consumer!.status().paused, 10_000);

  const { body } = await opsRequest(nc, namespace.id, 'health');
  t.equal(body.status, 'down');
  t.equal(body.checks.database.state, 'down');
  t.equal(body.checks.consumer.state, 'degraded');
  t.match(body.checks.consumer.reason, /paused: the database is unavailable/);
  t.ok(body.reasons.some((r: string) => r.startsWith('database: ')));
  t.ok(body.reasons.some((r: string) => r.startsWith('consumer: consumption paused')));
  t.equal(body.checks.nats.state, 'ok', 'NATS is fine meanwhile');

  await outage.restore();
  const healed = await waitFor(
    'ok again',
    async () => {
      const answer = (await opsRequest(nc, namespace.id, 'health')).body;
      return answer.status === 'ok' ? answer : undefined;
    },
    20_000,
  );
  t.same(healed.reasons, []);
});
