/**
 * Order per distribution while the relay works through a backlog. The interleaving: a transaction takes an outbox
 * id for distribution D and commits late, after the relay has read past that id; then a second command on D
 * commits a higher id. The relay, continuing after its cursor, must not publish the second event before the first.
 */
import t from 'tap';
import pg from 'pg';
import { startTestApp } from '../helpers/app.js';
import { streamEvents, waitFor } from '../helpers/event-stream.js';

const BATCH = 5;

/** Holds the relay in its next publish once armed, until released: the relay's own pace made deterministic. */
function relayGate() {
  let armed = false;
  let held: () => void = () => undefined;
  let release: () => void = () => undefined;
  let heldNow = new Promise<void>((resolve) => (held = resolve));
  return {
    afterPublish: (): Promise<void> | undefined => {
      if (!armed) return undefined;
      armed = false;
      held();
      return new Promise<void>((resolve) => (release = resolve));
    },
    /** The next publish will wait; resolves once it does. */
    arm(): Promise<void> {
      heldNow = new Promise<void>((resolve) => (held = resolve));
      armed = true;
      return heldNow;
    },
    release: () => release(),
  };
}

t.test('when an earlier event of a distribution commits after the relay read past it, then its later event still waits for it', async (t) => {
  const gate = relayGate();
  const { call, db, nc, config } = await startTestApp(t, {
    env: { OUTBOX_BATCH_SIZE: String(BATCH), OUTBOX_MAX_IN_FLIGHT: '1' },
    overrides: { relayHooks: { afterPublish: gate.afterPublish } },
  });
  const tenant = 'order_backlog';
  const create = async (course: string) => {
    const reply = await call(tenant, 'create', { course_id: course, language: 'de', title: `Kurs ${course}` });
    t.equal(reply.status, 200, `create ${course}`);
    return reply.body as { id: string };
  };
  const d = await create('course_d');
  await waitFor('D created on the stream', async () => (await streamEvents(nc, config.stream.name)).length === 1);

  // The relay is held publishing another distribution's event while the rest happens.
  const heldOnX = gate.arm();
  await create('course_x');
  await heldOnX;

  // A command on D in its transaction: D's row is locked and its event appended (its id taken), not committed yet.
  const late = new pg.Client({ connectionString: db.url });
  await late.connect();
  t.teardown(() => late.end());
  await late.query('begin');
  await late.query('select id from distribution where id = $1 for update', [d.id]);
  const { rows } = await late.query<{ envelope: Record<string, any> }>(`select envelope from outbox_event where aggregate_id = $1`, [d.id]);
  const lateEventId = `evt_${'0'.repeat(20)}LATE01`;
  await late.query(
    `insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope, created_at)
     values ($1, 'distribution.updated', $2, $3, $4, $5, now())`,
    [lateEventId, `distribution.updated.${d.id}`, d.id, tenant, JSON.stringify({ ...rows[0]!.envelope, id: lateEventId, type: 'distribution.updated' })],
  );

  // A backlog of three batches of other distributions, with higher ids.
  for (let i = 0; i < 3 * BATCH; i++) await create(`course_o${i}`);

  // The relay goes on into the backlog (reading past the uncommitted id) and is held in its first full batch.
  const heldInBacklog = gate.arm();
  gate.release();
  await heldInBacklog;

  // Now the late transaction commits, then the next command on D commits a higher id.
  await late.query('commit');
  t.equal((await call(tenant, 'update', { id: d.id, title: 'Kurs D neu' })).status, 200);
  gate.release();

  const ofD = async () => (await streamEvents(nc, config.stream.name)).filter((e) => e.subject.endsWith(d.id));
  await waitFor('all three events of D on the stream', async () => (await ofD()).length === 3, 20_000);
  const order = (await ofD()).map((e) => e.headers['Nats-Msg-Id']);
  const [updateEvent] = (await db.query<{ event_id: string }>(`select event_id from outbox_event where aggregate_id = $1 order by id desc limit 1`, [d.id])).rows;
  t.same(order.slice(1), [lateEventId, updateEvent?.event_id], 'the late event before the one committed after it');
});
