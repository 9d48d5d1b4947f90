/**
 * Refused publishes keep the row: with the stream deleted (no stream captures the subject) and with a stream that
 * is full and discards new messages, the relay records the failure, keeps retrying, and publishes every row
 * exactly once as soon as JetStream accepts it again. Drift between the running stream and the configured one is
 * logged, not overwritten.
 */
import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import { pino } from 'pino';
import t from 'tap';
import { ensureStream, wantedStreamConfig } from '../../src/messaging/event-stream.js';
import { startTestApp } from '../helpers/app.js';
import { streamEvents, waitFor } from '../helpers/event-stream.js';
import { connectTestNats, deleteStreamQuietly, natsNamespace } from '../helpers/nats.js';
import { resolveNats } from '../helpers/services.js';

const env = { OUTBOX_MAX_BACKOFF_MS: '200', OUTBOX_FLUSH_TIMEOUT_MS: '0' };

t.test('when the stream is missing, then the row is kept and retried, and published once the stream exists', async (t) => {
  const { call, db, nc, config } = await startTestApp(t, { env });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(config.stream.name);
  const created = await call('refused', 'create', { course_id: 'course_1', title: 'Kein Stream', language: 'de' });
  t.equal(created.status, 200, 'the command does not need the stream');
  const row = () => db.query<{ attempts: number; published_at: Date | null; last_error: string | null }>('select * from outbox_event').then((r) => r.rows[0]!);
  await waitFor('several failed attempts', async () => (await row()).attempts >= 3);
  t.equal((await row()).published_at, null, 'kept, not dropped');
  t.match((await row()).last_error, /no stream captures the subject/);

  await ensureStream(jsm, config.stream, config.nats.subjectPrefix, pino({ level: 'silent' }));
  await waitFor('published after the stream came back', async () => (await row()).published_at !== null);
  const events = await streamEvents(nc, config.stream.name);
  t.equal(events.length, 1, 'exactly once');
});

t.test('when the stream is full and discards new messages, then rows are kept until there is room', async (t) => {
  const namespace = natsNamespace();
  const nats = await resolveNats();
  const nc = await connectTestNats(t);
  const jsm = await jetstreamManager(nc);
  const logs: Array<{ msg: string; drift?: Array<{ field: string }> }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  // An operator made the stream small and discard-new before the service started.
  const name = namespace.stream('DISTRIBUTION');
  t.teardown(() => deleteStreamQuietly(nats.url, name));
  const wanted = wantedStreamConfig({ name, replicas: 1, maxAgeMs: 3_600_000, maxBytes: -1, discard: 'old', duplicateWindowMs: 600_000 }, namespace.id);
  await jsm.streams.add({ ...wanted, max_msgs: 2, discard: DiscardPolicy.New });

  const { call, db } = await startTestApp(t, { namespace, env, overrides: { log } });
  const drift = logs.find((l) => l.msg.startsWith('event stream differs'));
  t.ok(drift, 'the drift was logged');
  t.ok(
    drift?.drift?.some((d) => d.field === 'discard'),
    'naming the field',
  );
  t.equal((await jsm.streams.info(name)).config.discard, DiscardPolicy.New, 'and the stream was left as it is');

  for (let i = 0; i < 4; i++) t.equal((await call('full', 'create', { course_id: `course_${i}`, title: `Voll ${i}`, language: 'de' })).status, 200);
  const rows = () =>
    db.query<{ event_id: string; attempts: number; published_at: Date | null; last_error: string | null }>('select * from outbox_event order by id').then((r) => r.rows);
  await waitFor('two published, two refused', async () => {
    const r = await rows();
    return r.filter((x) => x.published_at).length === 2 && r.filter((x) => !x.published_at && x.attempts >= 2).length === 2;
  });
  t.match((await rows()).find((r) => !r.published_at)?.last_error, /maximum messages/i, 'the refusal is recorded');

  await jsm.streams.update(name, { ...(await jsm.streams.info(name)).config, max_msgs: -1 });
  await waitFor('all published once there is room', async () => (await rows()).every((r) => r.published_at));
  const events = await streamEvents(nc, name);
  t.strictSame(
    events.map((e) => e.headers['Nats-Msg-Id']),
    (await rows()).map((r) => r.event_id),
    'each exactly once, in order',
  );
});
