/**
 * The failure policy's table: what each kind of thrown error means. Errors are built the way pg, knex, MikroORM
 * and the NATS client build them (pg puts the SQLSTATE in `code`, MikroORM copies it onto its exceptions).
 */
import { DeadlockException, DriverException, OptimisticLockError, UniqueConstraintViolationException } from '@mikro-orm/core';
import { ClosedConnectionError, NoRespondersError, TimeoutError } from '@nats-io/nats-core';
import t from 'tap';
import { CommitOutcomeUnknownError, PermanentMessageError, ServiceFailure, type ErrorCode } from '../../src/errors.js';
import { settleFailure } from '../../src/messaging/consumer-settlement.js';
import { classify, isConnectionLost, SLUG_CONSTRAINT, toServiceFailure, type Disposition } from '../../src/failure-policy.js';
import { ConcurrentChangeError } from '../../src/persistence/distribution-repository.js';
import { InvalidEventError } from '../../src/persistence/outbox.js';

/** An error as pg raises it for a server response: message, SQLSTATE and, for constraint errors, the constraint. */
function pgError(code: string, fields: { constraint?: string; message?: string } = {}): Error {
  return Object.assign(new Error(fields.message ?? `server error ${code}`), { code, severity: 'ERROR', ...fields });
}

/** The same error after MikroORM converted it (its exception classes copy `code` and the pg fields). */
function mikroOrm<T extends DriverException>(Exception: new (previous: Error) => T, code: string, fields: { constraint?: string } = {}): T {
  return Object.assign(new Exception(pgError(code, fields)), fields);
}

const table: [name: string, err: unknown, code: ErrorCode, status: number, disposition: Disposition, databaseUnavailable: boolean][] = [
  // Class 08: connection exception.
  ['08000 connection exception', pgError('08000'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['08003 connection does not exist', pgError('08003'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['08006 connection failure', pgError('08006'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['08001 unable to connect', pgError('08001'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['08P01 protocol violation', pgError('08P01'), 'UNAVAILABLE', 503, 'retry-later', true],
  // 23505 per constraint.
  ['23505 on the live slug index (pg)', pgError('23505', { constraint: SLUG_CONSTRAINT }), 'SLUG_TAKEN', 409, 'reject', false],
  ['23505 on the live slug index (MikroORM)', mikroOrm(UniqueConstraintViolationException, '23505', { constraint: SLUG_CONSTRAINT }), 'SLUG_TAKEN', 409, 'reject', false],
  ['23505 on another constraint (a bug)', pgError('23505', { constraint: 'outbox_event_event_id_key' }), 'INTERNAL', 500, 'fail', false],
  ['23502 not null (a bug)', pgError('23502'), 'INTERNAL', 500, 'fail', false],
  ['23503 foreign key (a bug)', pgError('23503'), 'INTERNAL', 500, 'fail', false],
  // Class 40: transaction rollback by a concurrent transaction.
  ['40001 serialization failure', pgError('40001'), 'VERSION_CONFLICT', 409, 'retry-now', false],
  ['40001 as MikroORM converts it', mikroOrm(DeadlockException, '40001'), 'VERSION_CONFLICT', 409, 'retry-now', false],
  ['40P01 deadlock', mikroOrm(DeadlockException, '40P01'), 'VERSION_CONFLICT', 409, 'retry-now', false],
  // Class 53: insufficient resources.
  ['53300 too many connections', pgError('53300'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['53300 as a MikroORM DriverException', mikroOrm(DriverException, '53300'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['53100 disk full', pgError('53100'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['53200 out of memory', pgError('53200'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['53400 configuration limit exceeded', pgError('53400'), 'UNAVAILABLE', 503, 'retry-later', true],
  // 25006 read_only_sql_transaction: a read-only database (a replica after a failover).
  ['25006 read-only transaction', pgError('25006', { message: 'cannot execute INSERT in a read-only transaction' }), 'UNAVAILABLE', 503, 'retry-later', true],
  // 55P03 lock not available (lock_timeout), 55000 database closed to connections.
  ['55P03 lock not available', pgError('55P03'), 'VERSION_CONFLICT', 409, 'retry-now', false],
  ['55000 not accepting connections', pgError('55000', { message: 'database "x" is not currently accepting connections' }), 'UNAVAILABLE', 503, 'retry-later', true],
  // Class 57: operator intervention.
  ['57014 statement timeout', pgError('57014', { message: 'canceling statement due to statement timeout' }), 'UNAVAILABLE', 503, 'retry-later', true],
  ['57P01 admin shutdown', pgError('57P01'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['57P02 crash shutdown', pgError('57P02'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['57P03 cannot connect now', pgError('57P03'), 'UNAVAILABLE', 503, 'retry-later', true],
  // Others: syntax and undefined objects are bugs.
  ['42601 syntax error', pgError('42601'), 'INTERNAL', 500, 'fail', false],
  ['42P01 undefined table', pgError('42P01'), 'INTERNAL', 500, 'fail', false],
  ['22P02 invalid text representation', pgError('22P02'), 'INTERNAL', 500, 'fail', false],
  // Without a SQLSTATE: knex, pg and Node.
  [
    'knex acquire timeout',
    Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' }),
    'UNAVAILABLE',
    503,
    'retry-later',
    true,
  ],
  ['pg: connection terminated', new Error('Connection terminated unexpectedly'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['knex: transaction on a dead connection', new Error('Transaction query already complete, run with DEBUG=knex:tx for more info'), 'UNAVAILABLE', 503, 'retry-later', true],
  ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'UNAVAILABLE', 503, 'retry-later', true],
  ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'UNAVAILABLE', 503, 'retry-later', true],
  // Our own classes.
  ['a COMMIT that lost its connection (57P01)', new CommitOutcomeUnknownError({ cause: pgError('57P01') }), 'COMMIT_OUTCOME_UNKNOWN', 503, 'retry-later', true],
  [
    'a COMMIT that lost its connection (no SQLSTATE)',
    new CommitOutcomeUnknownError({ cause: new Error('Connection terminated unexpectedly') }),
    'COMMIT_OUTCOME_UNKNOWN',
    503,
    'retry-later',
    true,
  ],
  ['ServiceFailure COMMIT_OUTCOME_UNKNOWN', new ServiceFailure('COMMIT_OUTCOME_UNKNOWN', 'unknown'), 'COMMIT_OUTCOME_UNKNOWN', 503, 'retry-later', false],
  ['a stale row version', new ConcurrentChangeError('dist_1'), 'VERSION_CONFLICT', 409, 'retry-now', false],
  ['MikroORM optimistic lock', OptimisticLockError.lockFailed('CourseDistribution'), 'VERSION_CONFLICT', 409, 'retry-now', false],
  ['an event that violates its schema (a bug)', new InvalidEventError('distribution.created violates its schema'), 'INTERNAL', 500, 'fail', false],
  ['a message that is not its schema', new PermanentMessageError('course.generation.completed rejected (schema)'), 'VALIDATION_FAILED', 400, 'reject', false],
  ['ServiceFailure NOT_FOUND', new ServiceFailure('NOT_FOUND', 'no such distribution'), 'NOT_FOUND', 404, 'reject', false],
  ['ServiceFailure VERSION_CONFLICT (expected_version)', new ServiceFailure('VERSION_CONFLICT', 'expected v2'), 'VERSION_CONFLICT', 409, 'retry-later', false],
  ['ServiceFailure OVERLOADED', new ServiceFailure('OVERLOADED', 'busy'), 'OVERLOADED', 503, 'retry-later', false],
  ['ServiceFailure SHUTTING_DOWN', new ServiceFailure('SHUTTING_DOWN', 'bye'), 'SHUTTING_DOWN', 503, 'retry-later', false],
  ['ServiceFailure UNAVAILABLE', new ServiceFailure('UNAVAILABLE', 'down'), 'UNAVAILABLE', 503, 'retry-later', false],
  ['ServiceFailure PAYLOAD_TOO_LARGE', new ServiceFailure('PAYLOAD_TOO_LARGE', 'big'), 'PAYLOAD_TOO_LARGE', 413, 'reject', false],
  // NATS client errors.
  ['NATS request timeout', new TimeoutError(), 'UNAVAILABLE', 503, 'retry-later', false],
  ['NATS no responders', new NoRespondersError('subject'), 'UNAVAILABLE', 503, 'retry-later', false],
  ['NATS connection closed', new ClosedConnectionError(), 'UNAVAILABLE', 503, 'retry-later', false],
  // Unknown.
  ['an unknown Error', new Error('boom'), 'INTERNAL', 500, 'fail', false],
  ['a thrown string', 'boom', 'INTERNAL', 500, 'fail', false],
  ['undefined', undefined, 'INTERNAL', 500, 'fail', false],
];

for (const [name, err, code, status, disposition, databaseUnavailable] of table) {
  t.test(`when ${name} is thrown, then it is ${status} ${code}, ${disposition}`, async (t) => {
    const outcome = classify(err);
    t.equal(outcome.code, code);
    t.equal(outcome.status, status);
    t.equal(outcome.disposition, disposition);
    t.equal(outcome.retryable, disposition !== 'reject', 'retryable unless rejected');
    t.equal(outcome.databaseUnavailable, databaseUnavailable);
  });
}

t.test('when a ServiceFailure is classified, then its message and details are what the caller is told', async (t) => {
  const outcome = classify(new ServiceFailure('VALIDATION_FAILED', 'title is required', [{ path: '/title', reason: 'required' }]));
  t.equal(outcome.message, 'title is required');
  t.same(outcome.details, [{ path: '/title', reason: 'required' }]);
});

t.test('when an unknown error is classified, then the caller is never told its cause', async (t) => {
  const outcome = classify(new Error('password authentication failed for user "secret"'));
  t.notMatch(outcome.message, /secret/);
});

t.test('when a raw error becomes a ServiceFailure, then it keeps the original as its cause', async (t) => {
  const original = pgError('57014');
  const failure = toServiceFailure(original);
  t.equal(failure.code, 'UNAVAILABLE');
  t.equal(failure.cause, original);
  const own = new ServiceFailure('NOT_FOUND', 'x');
  t.equal(toServiceFailure(own), own, 'a ServiceFailure stays itself');
});

t.test('when a COMMIT outcome is unknown, then the caller is told to retry with the same idempotency_key and a consumed message is retried', async (t) => {
  const outcome = classify(new CommitOutcomeUnknownError({ cause: pgError('57P01') }));
  t.match(outcome.message, /idempotency_key/);
  t.same(settleFailure(outcome, 1, { maxDeliver: 10, serverMaxDeliver: -1 }, 'commit lost'), { action: 'retry', pauseIntake: true }, 'redelivered: the inbox claim dedups it');
});

const connectionLoss: [name: string, err: unknown, lost: boolean][] = [
  ['08006 connection failure', pgError('08006'), true],
  ['57P01 admin shutdown', pgError('57P01'), true],
  ['57P02 crash shutdown', pgError('57P02'), true],
  ['pg: connection terminated', new Error('Connection terminated unexpectedly'), true],
  ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
  ['57014 statement timeout (the server rolled back)', pgError('57014'), false],
  ['23505 a deferred unique violation (the server rolled back)', pgError('23505'), false],
  ['40001 serialization failure at commit', pgError('40001'), false],
  ['53100 disk full', pgError('53100'), false],
  ['an unknown Error', new Error('boom'), false],
];

for (const [name, err, lost] of connectionLoss) {
  t.test(`when a COMMIT fails with ${name}, then its outcome is ${lost ? 'unknown' : 'known (rolled back)'}`, async (t) => {
    t.equal(isConnectionLost(err), lost);
  });
}
