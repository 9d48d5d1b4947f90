/**
 * NATS down for the relay, commands still served: instance B (the relay) talks to a private nats-server S that
 * holds the event stream; instance A serves the commands on the shared server with its relay turned off, both on
 * one database. S is stopped in the middle of a burst of commands, more commands follow while it is down (each
 * must succeed; the relay must fail and keep the rows), and a transaction that appended an event rolls back.
 * When S returns, every committed event is on the stream exactly once, in commit order per distribution, and the
 * rolled-back one never.
 */
import { connect } from '@nats-io/transport-node';
import t from 'tap';
import { createContractValidator } from '../../src/contracts/index.js';
import { appendToOutbox } from '../../src/persistence/outbox.js';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { streamEvents, waitFor } from '../helpers/event-stream.js';
import { natsNamespace, startNatsServer } from '../helpers/nats.js';

t.test("when the relay's NATS is down, then commands succeed and every event arrives exactly once when it returns", async (t) => {
  const server = await startNatsServer(t);
  const db = await createTestDatabase(t);
  const namespace = natsNamespace();
  const relayEnv = { NATS_URL: server.url, OUTBOX_MAX_BACKOFF_MS: '500', OUTBOX_LOCK_RETRY_MS: '200', OUTBOX_PUBLISH_TIMEOUT_MS: '1000' };
  const relayInstance = await startTestApp(t, { db, namespace, env: relayEnv });
  const { call, app: commandApp } = await startTestApp(t, { db, namespace, env: { RELAY_ENABLED: 'false' } });
  const tenant = 'outage';
  const stream = relayInstance.config.stream.name;

  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const reply = await call(tenant, 'create', { course_id: `course_${i}`, title: `Ausfall Kurs ${i}`, language: 'de' });
    t.equal(reply.status, 200);
    ids.push(reply.body.id);
  }
  const unpublished = async () => Number((await db.query<{ n: string }>('select count(*) as n from outbox_event where published_at is null')).rows[0]?.n);
  await waitFor('the first events published', async () => (await unpublished()) === 0);

  // A burst of updates, 5 per distribution in order; S stops while it runs.
  const burst = Promise.all(
    ids.map(async (id) => {
      const statuses: number[] = [];
      for (let n = 1; n <= 5; n++) statuses.push((await call(tenant, 'update', { id, title: `Titel ${n} von ${id}` })).status);
      return statuses;
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 15));
  await server.stop();
  const burstStatuses = (await burst).flat();
  const during: number[] = [];
  for (const id of ids) during.push((await call(tenant, 'bump_version', { id, changelog: 'während des Ausfalls' })).status);
  t.ok(
    [...burstStatuses, ...during].every((s) => s === 200),
    'every command succeeds while the relay cannot publish',
  );

  // A transaction that appended an event and then rolled back.
  const template = (await db.query<{ envelope: any }>(`select envelope from outbox_event where event_type = 'distribution.created' limit 1`)).rows[0]!.envelope;
  const rolledBackId = commandApp.deps.newId('evt');
  await t.rejects(
    commandApp.deps.db.transaction(async (tx) => {
      await appendToOutbox(tx, createContractValidator(), [{ ...template, id: rolledBackId }]);
      throw new Error('rolled back on purpose');
    }),
  );

  await waitFor('the relay to fail and keep rows', async () => (await relayInstance.app.relay!.status()).consecutive_failed_passes > 0);
  const kept = await db.query<{ attempts: number; last_error: string }>('select attempts, last_error from outbox_event where published_at is null and attempts > 0');
  t.ok(kept.rows.length > 0, 'failed rows are kept with attempts and last_error');
  t.ok(
    kept.rows.every((r) => r.attempts > 0 && r.last_error),
    'last_error recorded',
  );

  await server.restart();
  await waitFor('every committed event published after NATS returned', async () => (await unpublished()) === 0, 30_000);

  const reader = await connect({ servers: server.url });
  t.teardown(() => reader.close());
  const events = await streamEvents(reader, stream);
  const rows = (await db.query<{ event_id: string; aggregate_id: string }>('select event_id, aggregate_id from outbox_event order by id')).rows;
  t.equal(rows.length, 4 + 20 + 4, 'every command committed its event');
  t.equal(events.length, rows.length, 'as many messages on the stream as committed events');
  t.strictSame(new Set(events.map((e) => e.headers['Nats-Msg-Id'])).size, events.length, 'no event twice');
  t.notOk(
    events.some((e) => e.headers['Nats-Msg-Id'] === rolledBackId),
    'the rolled-back event never reached the stream',
  );
  for (const id of ids) {
    t.strictSame(
      events.filter((e) => e.headers['ce-subject'] === id).map((e) => e.headers['Nats-Msg-Id']),
      rows.filter((r) => r.aggregate_id === id).map((r) => r.event_id),
      `${id}: stream order = commit order`,
    );
  }
});
