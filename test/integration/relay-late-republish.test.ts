/**
 * A row published but not marked, and published again only after the stream's duplicate window: JetStream no longer
 * knows its Nats-Msg-Id, so the relay asks the stream first (the last message on the row's subject) and marks the row
 * published instead of putting the event on the stream a second time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { streamEvents, waitFor } from '../helpers/event-stream.js';

const WINDOW_MS = 1500;

t.test('when a published but unmarked row is published again after the duplicate window, then the stream still holds it once', async (t) => {
  let crashed = false;
  const { app, call, db, nc, config } = await startTestApp(t, {
    env: {
      STREAM_DUPLICATE_WINDOW_MS: String(WINDOW_MS),
      OUTBOX_MAX_BACKOFF_MS: '100',
      OUTBOX_PUBLISH_TIMEOUT_MS: '500',
      OUTBOX_LOCK_RETRY_MS: '50',
      OUTBOX_FLUSH_TIMEOUT_MS: '0',
    },
    overrides: {
      relayHooks: {
        // The first PubAck is followed by a stall past the duplicate window, then a failure before the mark.
        async afterPublish() {
          if (crashed) return;
          crashed = true;
          await sleep(WINDOW_MS + 1000);
          throw new Error('simulated failure after the PubAck, past the duplicate window');
        },
      },
    },
  });
  t.equal((await call('late', 'create', { course_id: 'course_1', title: 'Spät', language: 'de' })).status, 200);
  const row = () => db.query<{ event_id: string; published_at: Date | null }>('select event_id, published_at from outbox_event').then((r) => r.rows[0]!);
  await waitFor('the row marked', async () => (await row()).published_at !== null, 15_000);
  t.ok(crashed, 'the first publish was not marked');
  const events = await streamEvents(nc, config.stream.name);
  t.strictSame(
    events.map((e) => e.headers['Nats-Msg-Id']),
    [(await row()).event_id],
    'exactly one message on the stream',
  );
  t.equal((await app.relay!.status()).duplicates_total, 1, 'the late attempt found the event on the stream and counted it as a duplicate');
});
