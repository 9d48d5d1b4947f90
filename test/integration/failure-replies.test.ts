/**
 * Transient database failures answer 503 UNAVAILABLE, on real PostgreSQL errors:
 * - 57014 (a statement outlasting DB_STATEMENT_TIMEOUT_MS, here because a test transaction locks the table);
 * - 53300 (too many connections: the service's role gets a connection limit of 0 and its sessions are ended).
 * And `$SRV.STATS` counts the error replies of asynchronous handlers with real processing times.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { captureLog } from '../helpers/log-capture.js';
import { resolvePostgres } from '../helpers/services.js';

const STATEMENT_TIMEOUT_MS = 300;

/** Runs `during` while another transaction holds an exclusive lock on the distribution table. */
async function withTableLocked(url: string, during: () => Promise<void>): Promise<void> {
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  try {
    await locker.query('begin');
    await locker.query('lock table distribution in access exclusive mode');
    await during();
  } finally {
    await locker.query('rollback').catch(() => undefined);
    await locker.end();
  }
}

t.test('when a statement outlasts the statement timeout, then reads and commands answer 503 UNAVAILABLE', async (t) => {
  const { call, db } = await startTestApp(t, { env: { DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) } });
  const created = await call('acme', 'create', { course_id: 'course_timeout', language: 'de', title: 'Zeit' });
  t.equal(created.status, 200);
  await withTableLocked(db.url, async () => {
    const read = await call('acme', 'get', { id: created.body.id });
    t.equal(read.status, 503, 'get: 503');
    t.equal(read.body.error.code, 'UNAVAILABLE');
    const command = await call('acme', 'create', { course_id: 'course_timeout_2', language: 'de', title: 'Zeit zwei' });
    t.equal(command.status, 503, 'create: 503');
    t.equal(command.body.error.code, 'UNAVAILABLE');
  });
  const after = await call('acme', 'get', { id: created.body.id });
  t.equal(after.status, 200, 'served again once the lock is gone');
});

t.test('when the database refuses connections with 53300, then a command answers 503 UNAVAILABLE, not 409', async (t) => {
  const server = await resolvePostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  t.teardown(() => admin.end());
  const role = `cd_limited_${randomBytes(4).toString('hex')}`;
  await admin.query(`create role ${role} login`);
  // Registered before the database's own teardown, so it runs after the database (which the role owns) is dropped.
  t.teardown(() => admin.query(`drop role if exists ${role}`));
  const db = await createTestDatabase(t);
  await admin.query(`alter database "${db.name}" owner to ${role}`);
  const url = new URL(db.url);
  url.username = role;
  const captured = captureLog('error');
  const { call } = await startTestApp(t, { db: { ...db, url: url.toString() }, overrides: { log: captured.log } });
  t.equal((await call('acme', 'create', { course_id: 'course_before', language: 'de', title: 'Vorher' })).status, 200);

  // Superusers are exempt from connection limits; the service's role is not.
  await admin.query(`alter role ${role} connection limit 0`);
  await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where usename = $1`, [role]);
  const statuses: string[] = [];
  for (let i = 0; i < 3; i++) {
    const reply = await call('acme', 'create', { course_id: `course_refused_${i}`, language: 'de', title: `Abgewiesen ${i}` });
    statuses.push(`${reply.status} ${reply.body.error?.code ?? ''}`);
  }
  t.same(statuses, ['503 UNAVAILABLE', '503 UNAVAILABLE', '503 UNAVAILABLE']);
  const refusedConnection = captured.lines().some((line) => line.err?.code === '53300');
  t.ok(refusedConnection, 'the database really answered 53300 (too many connections)');
  await admin.query(`alter role ${role} connection limit -1`);
});

t.test('when requests fail with 400, 404 and 503, then $SRV.STATS counts 3 errors, the last one, and real processing times', async (t) => {
  const captured = captureLog('info');
  const { call, db, nc } = await startTestApp(t, { env: { DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) }, overrides: { log: captured.log } });
  t.equal((await call('acme', 'get', { nonsense: true })).status, 400);
  t.equal((await call('acme', 'get', { id: 'dist_01JAAAAAAAAAAAAAAAAAAAAAAA' })).status, 404);
  await withTableLocked(db.url, async () => {
    t.equal((await call('acme', 'get', { id: 'dist_01JAAAAAAAAAAAAAAAAAAAAAAB' })).status, 503);
  });
  // Other test files run services of the same name on this server: ask this instance, by its id.
  const instanceId = captured.lines().find((line) => line.msg === 'serving requests')?.instance_id as string;
  const reply = await nc.request(`$SRV.STATS.course_distribution.${instanceId}`, '', { timeout: 5000 });
  const stats = reply.json<{
    endpoints: { name: string; num_requests: number; num_errors: number; last_error?: string; processing_time: number; average_processing_time: number }[];
  }>();
  const get = stats.endpoints.find((e) => e.name === 'get');
  t.ok(get, 'the get endpoint reports');
  t.equal(get?.num_requests, 3);
  t.equal(get?.num_errors, 3);
  t.match(get?.last_error, /^503:the database is unavailable/);
  t.ok((get?.processing_time ?? 0) >= STATEMENT_TIMEOUT_MS * 1e6, `processing_time (${get?.processing_time} ns) includes the ${STATEMENT_TIMEOUT_MS} ms the 503 took`);
  t.equal(get?.average_processing_time, Math.round((get?.processing_time ?? 0) / 3), 'average = total / requests, in nanoseconds');
});
