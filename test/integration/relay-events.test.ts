/**
 * Events out, end to end over real NATS and PostgreSQL: each of the 9 producing operations puts exactly its event
 * on the stream, on `<type>.<distribution id>`, with Nats-Msg-Id, Content-Type and the CloudEvents headers and an
 * envelope that validates; a consumer of `distribution.>` sees them in commit order per distribution.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import t from 'tap';
import { createContractValidator, type SchemaName } from '../../src/contracts/index.js';
import { startTestApp } from '../helpers/app.js';
import { streamEvents, waitFor } from '../helpers/event-stream.js';

const { call, db, nc, config, app, namespace } = await startTestApp(t);
const validator = createContractValidator();
const stream = config.stream.name;
const tenant = 'relay_events';

interface OutboxRow {
  id: string;
  event_id: string;
  event_type: string;
  subject: string;
  aggregate_id: string;
  envelope: any;
  published_at: Date | null;
}

const outbox = async () => (await db.query<OutboxRow>('select * from outbox_event order by id')).rows;

t.test('when the stream is provisioned at start, then it has the configured shape', async (t) => {
  const info = await (await jetstreamManager(nc)).streams.info(stream);
  t.equal(stream, namespace.stream('DISTRIBUTION'), 'with a subject prefix the default name carries it');
  t.strictSame(info.config.subjects, [namespace.subject('distribution.>')]);
  t.equal(info.config.storage, 'file');
  t.equal(info.config.retention, 'limits');
  t.equal(info.config.duplicate_window, config.stream.duplicateWindowMs * 1_000_000, 'duplicate window in ns');
});

t.test('when each producing operation runs, then exactly its event is on the stream, with headers and a valid envelope', async (t) => {
  const created = await call(tenant, 'create', {
    course_id: 'course_relay',
    title: 'Relais Kurs',
    language: 'de',
    description: 'Ein Kurs',
    seo: { meta_title: 'Relais', meta_description: 'Alles über Relais', meta_keywords: ['relais'] },
  });
  t.equal(created.status, 200, JSON.stringify(created.body));
  const id: string = created.body.id;
  const steps: Array<[string, unknown]> = [
    ['update', { id, title: 'Relais Kurs 2' }],
    ['publish', { id }],
    ['log_view', { id, referrer_category: 'organic_search' }],
    ['track_enrollment_click', { id }],
    ['create_micro_niche_variant', { parent_id: id, target_group: ['managers'] }],
    ['bump_version', { id, changelog: 'more content' }],
    ['unpublish', { id, reason: 'content_revision_required' }],
    ['delete', { id, deleted_by: 'user_1', cascade: true }],
  ];
  for (const [operation, body] of steps) {
    const reply = await call(tenant, operation, body);
    t.equal(reply.status, 200, `${operation}: ${JSON.stringify(reply.body)}`);
  }

  const rows = await outbox();
  t.strictSame(
    [...new Set(rows.map((r) => r.event_type))].sort(),
    [
      'distribution.created',
      'distribution.deleted',
      'distribution.enrollment_clicked',
      'distribution.micro_niche_created',
      'distribution.published',
      'distribution.unpublished',
      'distribution.updated',
      'distribution.version_bumped',
      'distribution.viewed',
    ],
    'all 9 event types were written',
  );
  await waitFor('every outbox row published', async () => (await outbox()).every((r) => r.published_at !== null));
  const events = await streamEvents(nc, stream);
  t.equal(events.length, rows.length, `${rows.length} events on the stream, one per outbox row`);

  for (const row of rows) {
    const onStream = events.filter((e) => e.headers['Nats-Msg-Id'] === row.event_id);
    t.equal(onStream.length, 1, `${row.event_type} ${row.event_id} exactly once`);
    const event = onStream[0];
    if (!event) continue;
    t.equal(event.subject, `${namespace.id}.${row.event_type}.${row.aggregate_id}`, 'subject <prefix>.<type>.<distribution id>');
    t.match(event.headers, {
      'Content-Type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': row.event_id,
      'ce-type': row.event_type,
      'ce-source': 'course_distribution',
      'ce-time': row.envelope.timestamp,
      'ce-subject': row.aggregate_id,
    });
    t.strictSame(event.body, row.envelope, 'the body is the stored envelope');
    const checked = validator.validate(row.event_type as SchemaName, event.body);
    t.ok(checked.ok, `${row.event_type} envelope validates`, { issues: checked.ok ? [] : checked.issues });
  }
});

t.test("when a consumer reads distribution.>, then it sees each distribution's events in commit order", async (t) => {
  const rows = await outbox();
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream); // ordered consumer over the whole stream = distribution.>
  const seen: Array<{ id: string; aggregate: string }> = [];
  const messages = await consumer.consume({ max_messages: 100 });
  const deadline = setTimeout(() => messages.stop(), 10_000);
  for await (const m of messages) {
    const body = m.json<{ id: string }>();
    seen.push({ id: body.id, aggregate: m.subject.split('.').at(-1)! });
    if (seen.length === rows.length) break;
  }
  clearTimeout(deadline);
  t.equal(seen.length, rows.length, 'every event reached the consumer');
  for (const aggregate of new Set(rows.map((r) => r.aggregate_id))) {
    t.strictSame(
      seen.filter((s) => s.aggregate === aggregate).map((s) => s.id),
      rows.filter((r) => r.aggregate_id === aggregate).map((r) => r.event_id),
      `${aggregate}: consumer order = commit (outbox id) order`,
    );
  }
});

t.test('when status() is asked, then it reports an active relay with an empty backlog', async (t) => {
  const status = await app.relay!.status();
  t.match(status, { active: true, unpublished: 0, oldest_unpublished_age_ms: null, consecutive_failed_passes: 0 });
  t.ok(status.published_total > 0);
});
