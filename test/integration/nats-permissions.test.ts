import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startTestApp } from '../helpers/app.js';
import { generationCompleted, publishCourseEvent } from '../helpers/course-events.js';
import { waitFor } from '../helpers/event-stream.js';
import { startNatsServer } from '../helpers/nats.js';

// The accounts part of the project's nats.conf, on a private server (listen and store are the helper's).
const accounts = readFileSync(resolve(import.meta.dirname, '../../nats.conf'), 'utf8').split('# --- accounts ---')[1]!;
const passwords = {
  CD_SERVICE_PASSWORD: 'service-secret',
  CD_COURSE_FACTORY_PASSWORD: 'factory-secret',
  CD_TENANT_BRAIN_PROD_PASSWORD: 'tenant-secret',
  CD_ANALYTICS_PASSWORD: 'analytics-secret',
  CD_OPS_PASSWORD: 'ops-secret',
};
const server = await startNatsServer(t, { config: accounts, env: passwords });
const as = async (user: string, pass: string, inboxPrefix?: string) => {
  const nc = await connect({ servers: server.url, user, pass, ...(inboxPrefix && { inboxPrefix }) });
  t.teardown(() => nc.close());
  return nc;
};

// CourseFactory owns the COURSE stream; it exists before the service starts.
const factory = await as('course_factory', passwords.CD_COURSE_FACTORY_PASSWORD, '_INBOX_course_factory');
await (await jetstreamManager(factory)).streams.add({ name: 'COURSE', subjects: ['course.>'], storage: StorageType.File, retention: RetentionPolicy.Limits });

const { db, config } = await startTestApp(t, {
  env: {
    NATS_URL: server.url,
    NATS_USER: 'course_distribution',
    NATS_PASSWORD: passwords.CD_SERVICE_PASSWORD,
    NATS_SUBJECT_PREFIX: '',
    COURSE_STREAM_CREATE: 'false',
  },
});
const tenant = await as('brain_prod', passwords.CD_TENANT_BRAIN_PROD_PASSWORD, '_INBOX_brain_prod');
const ops = await as('ops', passwords.CD_OPS_PASSWORD);

t.test('when the service runs as its own user, then it serves its tenant callers, publishes its events and consumes CourseFactory', async (t) => {
  const reply = await tenant.request('course_distribution.brain_prod.create', JSON.stringify({ course_id: 'course_perm_1', title: 'Rechte Kurs', language: 'de' }), {
    timeout: 10_000,
  });
  t.notOk(reply.headers?.get('Nats-Service-Error-Code'), reply.string());
  const id = reply.json<{ id: string }>().id;
  const jsm = await jetstreamManager(ops);
  await waitFor('the created event on DISTRIBUTION', async () => (await jsm.streams.info('DISTRIBUTION')).state.messages >= 1);
  const stored = await jsm.streams.getMessage('DISTRIBUTION', { last_by_subj: `distribution.created.${id}` });
  t.equal(stored?.json<{ type: string }>().type, 'distribution.created');

  const consumed = await publishCourseEvent(factory, '', 'course.generation.completed', generationCompleted('course_perm_2', { title: 'Von der Fabrik' }));
  await waitFor('the consumed course', async () => (await db.query(`select 1 from distribution where course_id = 'course_perm_2'`)).rows.length === 1);
  // The ack follows the commit; a refused $JS.ACK publish would leave the message pending and have it redelivered.
  const consumer = await waitFor('the ack on the durable consumer', async () => {
    const info = await jsm.consumers.info('COURSE', config.consumer.durableName);
    return info.ack_floor.stream_seq >= consumed.seq ? info : undefined;
  });
  t.equal(consumer.ack_floor.stream_seq, consumed.seq, 'the ack floor reached the consumed message: the service user acked it');
  t.equal(consumer.num_ack_pending, 0, 'nothing left waiting for an ack');
  t.equal(consumer.num_redelivered, 0, 'no redelivery');
  t.equal(consumer.delivered.stream_seq, consumed.seq, 'pulled as the service user');

  const ping = await ops.request('$SRV.PING.course_distribution', '', { timeout: 5000 });
  t.equal(ping.json<{ name: string }>().name, 'course_distribution', 'discovery answers');
});

t.test('when a tenant caller reaches beyond its tenant, then NATS refuses it', async (t) => {
  await t.rejects(tenant.request('course_distribution.other_tenant.get', JSON.stringify({ id: 'dist_x' }), { timeout: 2000 }), /Permissions Violation/);
  await t.rejects(tenant.request('course_distribution.ops.dead_letters', '{}', { timeout: 2000 }), /Permissions Violation/, 'no operator endpoints');
  const jsm = await jetstreamManager(ops);
  const before = (await jsm.streams.info('COURSE')).state.last_seq;
  await t.rejects(jetstream(tenant).publish('course.generation.completed', '{}'), /Permissions Violation|timeout/i, 'cannot pose as CourseFactory');
  t.equal((await jsm.streams.info('COURSE')).state.last_seq, before, 'nothing reached the COURSE stream');
});

t.test('when CourseFactory publishes beyond course.>, then NATS refuses it', async (t) => {
  await t.rejects(jetstream(factory).publish('distribution.created.dist_fake', '{}'), /Permissions Violation|timeout/i, 'cannot forge our events');
  const jsm = await jetstreamManager(ops);
  t.equal(await jsm.streams.getMessage('DISTRIBUTION', { last_by_subj: 'distribution.created.dist_fake' }), null, 'nothing stored on DISTRIBUTION');
  await t.rejects(factory.request('course_distribution.brain_prod.create', '{}', { timeout: 2000 }), /Permissions Violation/, 'cannot send commands');
});

t.test('when a caller names an event subject as the reply subject of a request, then no stream stores the reply', async (t) => {
  const jsm = await jetstreamManager(ops);
  const created = await tenant.request('course_distribution.brain_prod.create', JSON.stringify({ course_id: 'course_perm_forge', title: 'Fälschung', language: 'de' }), {
    timeout: 10_000,
  });
  const id = created.json<{ id: string }>().id;
  const forged = `distribution.deleted.${id}`;
  await waitFor('the created event on DISTRIBUTION', () => jsm.streams.getMessage('DISTRIBUTION', { last_by_subj: `distribution.created.${id}` }));
  const before = { distribution: (await jsm.streams.info('DISTRIBUTION')).state.last_seq, course: (await jsm.streams.info('COURSE')).state.last_seq };
  // The tenant may not even send it (it may subscribe only to its own inbox); ops may, and the service drops it.
  tenant.publish('course_distribution.brain_prod.get', JSON.stringify({ id }), { reply: forged });
  ops.publish('course_distribution.brain_prod.get', JSON.stringify({ id }), { reply: forged });
  ops.publish('course_distribution.brain_prod.get', JSON.stringify({ id }), { reply: 'course.generation.completed' });
  ops.publish('course_distribution.ops.health', '', { reply: forged });
  await tenant.flush();
  await ops.flush();
  // Answered in order after the forged ones: by now they were taken.
  const after = await tenant.request('course_distribution.brain_prod.get', JSON.stringify({ id }), { timeout: 10_000 });
  t.notOk(after.headers?.get('Nats-Service-Error-Code'), 'inbox replies flow');
  await new Promise((done) => setTimeout(done, 300));
  t.equal(await jsm.streams.getMessage('DISTRIBUTION', { last_by_subj: forged }), null, 'nothing stored on DISTRIBUTION');
  t.same({ distribution: (await jsm.streams.info('DISTRIBUTION')).state.last_seq, course: (await jsm.streams.info('COURSE')).state.last_seq }, before, 'no stream grew');
});

t.test('when a client connects with a wrong password, then it is refused', async (t) => {
  await t.rejects(connect({ servers: server.url, user: 'course_distribution', pass: 'wrong', reconnect: false }), /Authorization Violation/i);
});
