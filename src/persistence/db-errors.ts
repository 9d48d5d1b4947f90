/**
 * Classifies what PostgreSQL, pg and MikroORM throw, in one place: which failures are worth retrying
 * (a concurrent change, a lost connection) and which unique constraint a violation hit.
 * MikroORM 6 maps only SQLSTATE 23xxx/40001/40P01/42xxx to classes; lost connections arrive as a DriverException
 * with a 57P01 code, a plain pg Error ("Connection terminated unexpectedly") or a Node error (ECONNREFUSED).
 */
import { DeadlockException, LockWaitTimeoutException, OptimisticLockError, UniqueConstraintViolationException } from '@mikro-orm/core';

const TRANSIENT_SQLSTATE = new Set(['40001', '40P01', '55P03', '57014', '57P01', '57P02', '57P03', '53300', '53400']);
const UNREACHABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
const UNREACHABLE_MESSAGE =
  /Connection terminated|Client has encountered a connection error|Timeout acquiring a connection|connection is closed|Connection ended|terminating connection|the database system is (starting up|shutting down)|is not currently accepting connections|Transaction query already complete/i;

interface ErrorShape {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  constraint?: unknown;
}

/** The name of the unique constraint or index a violation hit, or undefined when it is not a unique violation. */
export function violatedUniqueConstraint(err: unknown): string | undefined {
  if (!(err instanceof UniqueConstraintViolationException) && (err as ErrorShape | undefined)?.code !== '23505') return undefined;
  const constraint = (err as ErrorShape).constraint;
  return typeof constraint === 'string' ? constraint : '';
}

/**
 * The database could not be reached or dropped the connection: answer 503, nack, back off. Includes a database
 * closed to connections (55000, "not currently accepting connections") and knex's "Transaction query already
 * complete", which is what the next statement of a transaction whose BEGIN hit a dead pooled connection gets.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as ErrorShape | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code && (code.startsWith('08') || code.startsWith('57P') || UNREACHABLE_NODE_CODES.has(code))) return true;
  if (e?.name === 'KnexTimeoutError') return true;
  return UNREACHABLE_MESSAGE.test(String(e?.message ?? ''));
}

/** A conflict with a concurrent transaction that a fresh attempt can resolve. */
export function isConcurrencyConflict(err: unknown): boolean {
  if (err instanceof OptimisticLockError || err instanceof DeadlockException || err instanceof LockWaitTimeoutException) return true;
  const code = (err as ErrorShape | undefined)?.code;
  return typeof code === 'string' && TRANSIENT_SQLSTATE.has(code) && !code.startsWith('57');
}
