/**
 * Crash between publish and mark: the relay's `afterPublish` seam throws after the PubAck and before the row is
 * marked, as a process dying at that instant would leave it (published, not marked). The instance is stopped and
 * another starts on the same database: it publishes the row again, JetStream recognises the Nats-Msg-Id as a
 * duplicate, and the stream holds the event exactly once.
 */
import { connect } from '@nats-io/transport-node';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { streamEvents, waitFor } from '../helpers/event-stream.js';
import { deleteStreamQuietly, natsNamespace } from '../helpers/nats.js';
import { resolveNats } from '../helpers/services.js';

t.test('when the relay dies after the PubAck and before marking, then after restart the event is on the stream once', async (t) => {
  const db = await createTestDatabase(t);
  const namespace = natsNamespace();
  const nats = await resolveNats();
  t.teardown(() => deleteStreamQuietly(nats.url, namespace.stream('DISTRIBUTION')));
  const env = { OUTBOX_MAX_BACKOFF_MS: '200', OUTBOX_LOCK_RETRY_MS: '100', OUTBOX_FLUSH_TIMEOUT_MS: '0' };
  const crashing = await startTestApp(t, {
    db,
    namespace,
    env,
    overrides: {
      relayHooks: {
        afterPublish() {
          throw new Error('simulated crash after the PubAck');
        },
      },
    },
  });
  const created = await crashing.call('crash', 'create', { course_id: 'course_1', title: 'Absturz', language: 'de' });
  t.equal(created.status, 200);
  const row = () =>
    db.query<{ attempts: number; published_at: Date | null; last_error: string | null }>('select attempts, published_at, last_error from outbox_event').then((r) => r.rows[0]!);

  await waitFor('the row published twice and still unmarked', async () => (await row()).attempts >= 2);
  t.equal((await row()).published_at, null, 'not marked: the crash came before the mark');
  t.match((await row()).last_error, /simulated crash/);
  await crashing.app.stop();

  const restarted = await startTestApp(t, { db, namespace, env });
  await waitFor('the row marked by the restarted instance', async () => (await row()).published_at !== null);
  const status = await restarted.app.relay!.status();
  t.equal(status.duplicates_total, 1, "the restarted relay's publish was acknowledged as a duplicate");

  const reader = await connect({ servers: nats.url });
  t.teardown(() => reader.close());
  const events = await streamEvents(reader, namespace.stream('DISTRIBUTION'));
  t.equal(events.length, 1, 'exactly one message on the stream');
  t.equal(events[0]?.body.type, 'distribution.created');
});
