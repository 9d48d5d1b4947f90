/**
 * The failure policy: the one place that decides what a failure means. `classify(err)` takes anything that can be
 * thrown (our ServiceFailure and error classes, what pg / knex / MikroORM throw, NATS client errors, anything
 * else) and returns a FailureOutcome: the contract's code and reply status, whether a fresh attempt may succeed,
 * and how to handle it. Callers only map the outcome: a command or query replies with its code, the command
 * runner retries a `retry-now`, and the consumer turns it into ack, nak(delay) or dead-letter (consumer-settlement.ts).
 *
 * PostgreSQL failures are judged by SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html),
 * which pg puts in `code` and MikroORM copies onto its exceptions. MikroORM 6 maps only 23xxx, 40001, 40P01 and a
 * few 42xxx codes to classes, so the code is what we rely on; a lost connection can also arrive without one, as a
 * pg or knex message or a Node socket error.
 */
import { OptimisticLockError } from '@mikro-orm/core';
import { ClosedConnectionError, ConnectionError, DrainingConnectionError, NoRespondersError, RequestError, TimeoutError } from '@nats-io/nats-core';
import { CommitOutcomeUnknownError, PermanentMessageError, ServiceFailure, STATUS_OF_CODE, type ErrorCode, type ErrorDetails, type ErrorStatus } from './errors.js';
import { ConcurrentChangeError } from './persistence/distribution-repository.js';

/**
 * How a failure is handled, whoever handles it:
 * - `retry-now`: a concurrent transaction got in the way; run the transaction again from a fresh read (the
 *   command runner does, a few times, before answering 409).
 * - `retry-later`: a dependency is unreachable, overloaded or shutting down, or the conflict outlasted the
 *   retries; answer 503/409 and let the caller (or JetStream, after a delay) try again.
 * - `reject`: the request or message can never succeed as it is; answer 4xx, dead-letter a consumed message.
 * - `fail`: a bug or an error nobody classified; answer 500 and log it. A consumed message is redelivered, since
 *   the cause may pass, and dead-lettered at its last delivery.
 */
export type Disposition = 'retry-now' | 'retry-later' | 'reject' | 'fail';

export interface FailureOutcome {
  code: ErrorCode;
  status: ErrorStatus;
  /** What the caller is told; a 500 never carries the cause (the log has it). */
  message: string;
  details?: ErrorDetails;
  /** A fresh attempt may succeed: false only for `reject`. */
  retryable: boolean;
  disposition: Disposition;
  /** The database (not NATS, not this process) is unreachable: the consumer pauses intake until it answers. */
  databaseUnavailable: boolean;
}

/** The unique index that makes a live slug unique per tenant: a violation is the caller's 409 SLUG_TAKEN. */
export const SLUG_CONSTRAINT = 'distribution_tenant_slug_live_uq';

/** SQLSTATEs of a concurrent transaction: serialization failure, deadlock, lock not available (lock_timeout). */
const CONFLICT_SQLSTATES = new Set(['40001', '40P01', '55P03']);

/**
 * SQLSTATEs of a database that cannot serve now: 57014 query canceled (DB_STATEMENT_TIMEOUT_MS), 57P01-57P03
 * admin / crash shutdown and "cannot connect now", 55000 when the database is closed to connections, 25006
 * read_only_sql_transaction (a read-only database, e.g. a replica after a failover). The classes
 * 08 (connection exception) and 53 (insufficient resources: 53300 too many connections, 53100 disk full, 53200
 * out of memory, 53400 configuration limit) are matched by their prefix.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57014', '57P01', '57P02', '57P03', '57P04', '55000', '25006']);
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '53'];

/** Node socket errors of a database or broker that cannot be reached. */
const UNREACHABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);

/**
 * pg and knex messages of a lost connection that carry no code. "Transaction query already complete" is what the
 * next statement of a transaction gets when its BEGIN hit a dead pooled connection.
 */
const UNREACHABLE_MESSAGE =
  /Connection terminated|Client has encountered a connection error|Timeout acquiring a connection|connection is closed|Connection ended|terminating connection|the database system is (starting up|shutting down)|is not currently accepting connections|Transaction query already complete/i;

interface ErrorShape {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  constraint?: unknown;
}

const DATABASE_UNAVAILABLE = 'the database is unavailable; retry later';
const COMMIT_OUTCOME_UNKNOWN =
  'the database connection was lost during the commit: the change may or may not have been made; retry with the same idempotency_key, or read it back first';
const CONCURRENT_CHANGE = 'the distribution kept changing concurrently; read it again and retry';
const INTERNAL = 'internal error; the service log has the details';

function outcome(code: ErrorCode, message: string, disposition: Disposition, extra: { details?: ErrorDetails; databaseUnavailable?: boolean } = {}): FailureOutcome {
  return {
    code,
    status: STATUS_OF_CODE[code],
    message,
    ...(extra.details !== undefined && { details: extra.details }),
    retryable: disposition !== 'reject',
    disposition,
    databaseUnavailable: extra.databaseUnavailable ?? false,
  };
}

/** A failure the service decided itself: its code says what it means. */
function classifyServiceFailure(failure: ServiceFailure): FailureOutcome {
  const extra = { details: failure.details };
  switch (failure.code) {
    case 'UNAVAILABLE':
    case 'COMMIT_OUTCOME_UNKNOWN':
    case 'OVERLOADED':
    case 'SHUTTING_DOWN':
    case 'VERSION_CONFLICT':
      return outcome(failure.code, failure.message, 'retry-later', extra);
    case 'INTERNAL':
      return outcome('INTERNAL', failure.message, 'fail', extra);
    case 'BAD_REQUEST':
    case 'VALIDATION_FAILED':
    case 'UNKNOWN_OPERATION':
    case 'BAD_TENANT':
    case 'NOT_FOUND':
    case 'SLUG_TAKEN':
    case 'ILLEGAL_TRANSITION':
    case 'PUBLISH_REQUIREMENTS_UNMET':
    case 'PARENT_DELETED':
    case 'HAS_VARIANTS':
    case 'VARIANT_OF_VARIANT':
    case 'IDEMPOTENCY_KEY_REUSED':
    case 'PAYLOAD_TOO_LARGE':
      return outcome(failure.code, failure.message, 'reject', extra);
    default: {
      const unknown: never = failure.code;
      return outcome('INTERNAL', `unclassified code ${String(unknown)}`, 'fail');
    }
  }
}

function sqlstateOf(err: ErrorShape): string | undefined {
  return typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : undefined;
}

/** A database failure judged by its SQLSTATE, or undefined when the code does not decide it. */
function classifySqlstate(sqlstate: string, err: ErrorShape): FailureOutcome | undefined {
  if (sqlstate === '23505' && err.constraint === SLUG_CONSTRAINT) {
    return outcome('SLUG_TAKEN', 'the slug is already taken in this tenant', 'reject');
  }
  if (CONFLICT_SQLSTATES.has(sqlstate)) return outcome('VERSION_CONFLICT', CONCURRENT_CHANGE, 'retry-now');
  if (UNAVAILABLE_SQLSTATES.has(sqlstate) || UNAVAILABLE_SQLSTATE_CLASSES.some((c) => sqlstate.startsWith(c))) {
    return outcome('UNAVAILABLE', DATABASE_UNAVAILABLE, 'retry-later', { databaseUnavailable: true });
  }
  return undefined;
}

/** NATS client errors of a broker that cannot be reached or did not answer in time. */
function isNatsUnavailable(err: unknown): boolean {
  return (
    err instanceof TimeoutError ||
    err instanceof NoRespondersError ||
    err instanceof ConnectionError ||
    err instanceof ClosedConnectionError ||
    err instanceof DrainingConnectionError ||
    (err instanceof RequestError && err.isNoResponders())
  );
}

/** SQLSTATEs that end the session: class 08 (connection exception) by prefix, admin and crash shutdown. */
const CONNECTION_LOST_SQLSTATES = new Set(['57P01', '57P02']);

/**
 * The database connection itself failed (as opposed to a statement refused on a live connection): a connection
 * exception or session-ending SQLSTATE, a Node socket error, or pg's message of a terminated connection. A
 * COMMIT failing so has an unknown outcome (Database.transaction throws CommitOutcomeUnknownError).
 */
export function isConnectionLost(err: unknown): boolean {
  const shape = (typeof err === 'object' && err !== null ? err : {}) as ErrorShape;
  const sqlstate = sqlstateOf(shape);
  if (sqlstate !== undefined) return sqlstate.startsWith('08') || CONNECTION_LOST_SQLSTATES.has(sqlstate);
  const nodeCode = typeof shape.code === 'string' ? shape.code : '';
  return UNREACHABLE_NODE_CODES.has(nodeCode) || UNREACHABLE_MESSAGE.test(typeof shape.message === 'string' ? shape.message : '');
}

/** The one decision of what a failure means. Never throws. */
export function classify(err: unknown): FailureOutcome {
  if (err instanceof ServiceFailure) return classifyServiceFailure(err);
  // Retried like any outage (a consumed message is redelivered: the inbox claim, committed or not, dedups it),
  // but a caller must not repeat a create blindly.
  if (err instanceof CommitOutcomeUnknownError) return outcome('COMMIT_OUTCOME_UNKNOWN', COMMIT_OUTCOME_UNKNOWN, 'retry-later', { databaseUnavailable: true });
  if (err instanceof PermanentMessageError) return outcome('VALIDATION_FAILED', err.message, 'reject');
  if (err instanceof ConcurrentChangeError || err instanceof OptimisticLockError) return outcome('VERSION_CONFLICT', CONCURRENT_CHANGE, 'retry-now');
  const shape = (typeof err === 'object' && err !== null ? err : {}) as ErrorShape;
  const sqlstate = sqlstateOf(shape);
  const bySqlstate = sqlstate === undefined ? undefined : classifySqlstate(sqlstate, shape);
  if (bySqlstate) return bySqlstate;
  const nodeCode = typeof shape.code === 'string' ? shape.code : '';
  if (UNREACHABLE_NODE_CODES.has(nodeCode) || shape.name === 'KnexTimeoutError' || UNREACHABLE_MESSAGE.test(typeof shape.message === 'string' ? shape.message : '')) {
    return outcome('UNAVAILABLE', DATABASE_UNAVAILABLE, 'retry-later', { databaseUnavailable: true });
  }
  if (isNatsUnavailable(err)) return outcome('UNAVAILABLE', 'the message broker is unavailable; retry later', 'retry-later');
  return outcome('INTERNAL', INTERNAL, 'fail');
}

/** The failure as the ServiceFailure a reply is made from; the original error is kept as its cause. */
export function toServiceFailure(err: unknown): ServiceFailure {
  if (err instanceof ServiceFailure) return err;
  const judged = classify(err);
  return new ServiceFailure(judged.code, judged.message, judged.details, { cause: err });
}
