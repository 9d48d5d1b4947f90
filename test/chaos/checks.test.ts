import t from 'tap';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { createOrm, migrate } from '../../src/persistence/orm.js';
import { createTestDatabase } from '../helpers/database.js';
import { checkChaosRun, type StreamMessage } from './checks.js';
import type { LedgerEntry } from './ledger.js';
import type { Page, Workload } from './workload.js';

// The chaos run's checks must be able to fail: a database and a stream with known defects are fed to them, and each
// defect must show in its counter; the same data without the defects must pass.

const db = await createTestDatabase(t);
const orm = await createOrm(loadConfig({ DATABASE_URL: db.url }));
await migrate(orm, db.url);
await orm.close();
const pool = new pg.Pool({ connectionString: db.url, max: 2 });
t.teardown(() => pool.end());

const id = 'dist_01JCHAOS00000000000000000A';
await pool.query(
  `insert into distribution (id, tenant_id, course_id, slug, language, title, cta, created_at, updated_at)
   values ($1, 'chaos', 'course-s1-caller0-0', 's1-caller0-0', 'de', 'Neu s1-caller0-0', '{}', now(), now())`,
  [id],
);
const events = [
  { id: 'evt_1', type: 'distribution.created', payload: { distribution_id: id } },
  { id: 'evt_2', type: 'distribution.updated', payload: { distribution_id: id, new_values: { title: 'Neu s1-caller0-0' } } },
];
for (const event of events) {
  await pool.query(`insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope, published_at) values ($1, $2, $3, $4, 'chaos', $5, now())`, [
    event.id,
    event.type,
    `${event.type}.${id}`,
    id,
    JSON.stringify(event),
  ]);
}

const page = (): Page => ({
  worker: 'caller0',
  slug: 's1-caller0-0',
  courseId: 'course-s1-caller0-0',
  id,
  steps: [
    { kind: 'create', state: 'ok', mark: 's1-caller0-0' },
    { kind: 'update', state: 'ok', mark: 'Neu s1-caller0-0' },
  ],
});
const workload = (): Workload => ({ pages: [page()], hot: [], courses: [] });
const message = (seq: number, event: (typeof events)[number]): StreamMessage => ({ seq, subject: `${event.type}.${id}`, body: event });
const ledger: LedgerEntry[] = [];

t.test('when the stream holds every outbox event once and in order, then every counter is 0', async (t) => {
  const findings = await checkChaosRun(pool, [message(1, events[0]!), message(2, events[1]!)], workload(), ledger, { consumer: 0 });
  t.same(findings.counts, { lost: 0, duplicated: 0, out_of_order: 0, stuck: 0, forged: 0, unexpected: 0 }, findings.problems.join('\n'));
});

t.test('when an event is stored twice, then duplicated counts it', async (t) => {
  const findings = await checkChaosRun(pool, [message(1, events[0]!), message(2, events[1]!), message(3, events[1]!)], workload(), ledger, { consumer: 0 });
  t.equal(findings.counts.duplicated, 1, findings.problems.join('\n'));
});

t.test('when a published event is missing from the stream, then lost counts it (the row and the effect)', async (t) => {
  const findings = await checkChaosRun(pool, [message(1, events[0]!)], workload(), ledger, { consumer: 0 });
  t.ok(findings.counts.lost >= 1, findings.problems.join('\n'));
});

t.test('when the events of a distribution are stored in another order than committed, then out_of_order counts it', async (t) => {
  const findings = await checkChaosRun(pool, [message(1, events[1]!), message(2, events[0]!)], workload(), ledger, { consumer: 0 });
  t.equal(findings.counts.out_of_order, 1, findings.problems.join('\n'));
});

t.test('when the stream holds an event no outbox row wrote, then forged counts it', async (t) => {
  const forged = { id: 'evt_forged', type: 'distribution.published', payload: { distribution_id: id } };
  const findings = await checkChaosRun(pool, [message(1, events[0]!), message(2, events[1]!), message(3, forged)], workload(), ledger, { consumer: 0 });
  t.equal(findings.counts.forged, 1, findings.problems.join('\n'));
  t.equal(findings.counts.duplicated, 1, 'and the page has a published event no acknowledged request caused');
});

t.test('when a distribution exists that no request caused, or a request was answered 500, then they are counted', async (t) => {
  const findings = await checkChaosRun(
    pool,
    [message(1, events[0]!), message(2, events[1]!)],
    { pages: [], hot: [], courses: [] },
    [{ kind: 'request', phase: 'workload', worker: 'caller0', tenant: 'chaos', operation: 'update', body: {}, outcome: '500 INTERNAL', at: '' }],
    { consumer: 2 },
  );
  t.equal(findings.counts.duplicated, 1, findings.problems.join('\n'));
  t.equal(findings.counts.unexpected, 1);
  t.equal(findings.counts.stuck, 2, 'the pending consumer messages');
});
