/**
 * The request log over real NATS and PostgreSQL (src/messaging/request-log.ts): one line per request, state changes
 * at info, queries and counters at debug, refusals with their code, and never a body (no titles, no descriptions).
 */
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { captureLog } from '../helpers/log-capture.js';

const captured = captureLog('debug');
const { call } = await startTestApp(t, { overrides: { log: captured.log } });
const INFO = 30;
const DEBUG = 20;
const TITLE = 'Geheimer Kurstitel über Altersvorsorge';
const DESCRIPTION = 'Eine Beschreibung, die nie im Log stehen darf.';

/** The request lines of one operation logged since `from` (an index into the captured lines). */
const requestLines = (operation: string, from = 0) =>
  captured
    .lines()
    .slice(from)
    .filter((line) => line.operation === operation && typeof line.msg === 'string' && line.msg.startsWith('request '));

t.test('when a distribution is created, then exactly one info line has its ids, outcome and duration, and no body', async (t) => {
  const from = captured.lines().length;
  const reply = await call('log_tenant', 'create', { course_id: 'course_log_1', title: TITLE, description: DESCRIPTION, language: 'de', correlation_id: 'req_log_1' });
  t.equal(reply.status, 200);
  const lines = requestLines('create', from);
  t.equal(lines.length, 1, 'one line');
  t.match(lines[0], {
    level: INFO,
    msg: 'request served',
    operation: 'create',
    tenant: 'log_tenant',
    distribution_id: reply.body.id,
    command_id: /^cmd_/,
    correlation_id: 'req_log_1',
    code: 'ok',
    status: 200,
    duration_ms: Number,
  });
  t.ok(lines[0]?.duration_ms > 0, 'a positive duration');
  const everything = JSON.stringify(captured.lines().slice(from));
  t.notMatch(everything, TITLE, 'no title anywhere in the log');
  t.notMatch(everything, DESCRIPTION, 'no description anywhere in the log');
});

t.test('when a distribution is read, counted or listed, then each request logs one debug line with the same fields', async (t) => {
  const created = await call('log_tenant', 'create', { course_id: 'course_log_2', title: 'Lesekurs', language: 'de' });
  const from = captured.lines().length;
  t.equal((await call('log_tenant', 'get', { id: created.body.id, correlation_id: 'req_log_get' })).status, 200);
  t.equal((await call('log_tenant', 'log_view', { id: created.body.id })).status, 200);
  t.equal((await call('log_tenant', 'list', {})).status, 200);
  t.match(requestLines('get', from), [{ level: DEBUG, msg: 'request served', tenant: 'log_tenant', distribution_id: created.body.id, correlation_id: 'req_log_get', code: 'ok' }]);
  t.match(requestLines('log_view', from), [{ level: DEBUG, distribution_id: created.body.id, code: 'ok', duration_ms: Number }]);
  t.match(requestLines('list', from), [{ level: DEBUG, code: 'ok' }]);
});

t.test('when an update is refused with 404, then it logs one info line with code NOT_FOUND; a refused get logs at debug', async (t) => {
  const missing = 'dist_01JAAAAAAAAAAAAAAAAAAAAAAA';
  const from = captured.lines().length;
  t.equal((await call('log_tenant', 'update', { id: missing, title: TITLE })).status, 404);
  t.equal((await call('log_tenant', 'get', { id: missing })).status, 404);
  t.match(requestLines('update', from), [
    { level: INFO, msg: 'request refused', tenant: 'log_tenant', distribution_id: missing, command_id: /^cmd_/, code: 'NOT_FOUND', status: 404 },
  ]);
  t.match(requestLines('get', from), [{ level: DEBUG, msg: 'request refused', code: 'NOT_FOUND' }]);
  t.notMatch(JSON.stringify(captured.lines().slice(from)), TITLE, 'the refused body is not logged');
});

t.test('when a request is not valid, then its line has the code and no ids from the body', async (t) => {
  const from = captured.lines().length;
  t.equal((await call('log_tenant', 'publish', { nonsense: true })).status, 400);
  const [line] = requestLines('publish', from);
  t.match(line, { level: INFO, msg: 'request refused', tenant: 'log_tenant', code: 'VALIDATION_FAILED', status: 400 });
  t.notOk(line && 'command_id' in line, 'no command was started');
});

t.test('when the service started, then the relay logged that it is active', async (t) => {
  t.ok(
    captured.lines().some((line) => line.level === INFO && line.msg === 'outbox relay active (holds the relay lock)'),
    'the relay state change is logged at info',
  );
});
