/**
 * A reply subject is the caller's choice: the service answers only reply subjects that are inboxes
 * (REPLY_SUBJECT_PREFIXES), so a forged one (e.g. an event subject of the DISTRIBUTION stream) gets no reply at all,
 * on every reply path: an operation's success and failure, an unknown operation, an operator endpoint.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { streamEvents } from '../helpers/event-stream.js';
import { captureLog } from '../helpers/log-capture.js';
import { commandSubject, withPrefix } from '../../src/messaging/subjects.js';

t.test('when a request names an event subject as its reply subject, then nothing lands on the stream and the subject is logged', async (t) => {
  const captured = captureLog('warn');
  const { nc, call, config, namespace } = await startTestApp(t, { overrides: { log: captured.log } });
  const created = await call('acme', 'create', { course_id: 'course_forge', language: 'de', title: 'Fälschung' });
  t.equal(created.status, 200);
  const forged = withPrefix(namespace.id, `distribution.deleted.${created.body.id}`);
  const requests: [string, string][] = [
    ['get (success)', commandSubject(namespace.id, 'acme', 'get')],
    ['get (failure)', commandSubject(namespace.id, 'acme', 'get')],
    ['unknown operation', commandSubject(namespace.id, 'acme', 'no_such_operation')],
    ['ops endpoint', withPrefix(namespace.id, 'course_distribution.ops.health')],
  ];
  // get (failure): `{}` lacks the id, a 400.
  const bodies: Record<string, string> = { 'get (success)': JSON.stringify({ id: created.body.id }) };
  for (const [name, subject] of requests) nc.publish(subject, bodies[name] ?? '{}', { reply: forged });
  // A legitimate request after the forged ones: once it is answered, the forged ones were taken too.
  await sleep(300);
  t.equal((await call('acme', 'get', { id: created.body.id })).status, 200, 'inbox replies still flow');
  const landed = (await streamEvents(nc, config.stream.name)).filter((e) => e.subject === forged);
  t.same(landed, [], 'no forged reply on the stream');
  const warned = captured.lines().filter((l) => l.level === 40 && l.reply_subject === forged);
  t.ok(warned.length >= requests.length, `each forged reply subject is logged at warn (${warned.length})`);
});

t.test('when a caller replies on a configured tenant inbox prefix, then it is answered', async (t) => {
  const { nc, namespace } = await startTestApp(t);
  const inbox = `_INBOX_acme.${Math.random().toString(36).slice(2)}`;
  const sub = nc.subscribe(inbox, { max: 1 });
  nc.publish(commandSubject(namespace.id, 'acme', 'get'), JSON.stringify({ id: 'dist_01J00000000000000000000000' }), { reply: inbox });
  for await (const m of sub) {
    t.equal(m.headers?.get('Nats-Service-Error-Code'), '404');
    break;
  }
});
