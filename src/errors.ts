/**
 * The errors the service reports, one code per condition (the README's "Replies and errors" lists them).
 * Domain decisions return rejections as values; anything that crosses a boundary throws a ServiceFailure.
 * What any thrown error means (its code, and whether to retry, reject or dead-letter) is decided in one place,
 * failure-policy.ts; the reply layer maps that to the services-framework headers and the `{"error": {...}}` body.
 */
import type { ErrorBody } from '../generated/types.js';

export type ErrorCode = ErrorBody['code'];
export type ErrorDetails = ErrorBody['details'];
export type ErrorStatus = 400 | 404 | 409 | 413 | 500 | 503;

/** The reply status of each error code. */
export const STATUS_OF_CODE: Record<ErrorCode, ErrorStatus> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNKNOWN_OPERATION: 400,
  BAD_TENANT: 400,
  NOT_FOUND: 404,
  SLUG_TAKEN: 409,
  ILLEGAL_TRANSITION: 409,
  PUBLISH_REQUIREMENTS_UNMET: 409,
  VERSION_CONFLICT: 409,
  PARENT_DELETED: 409,
  HAS_VARIANTS: 409,
  VARIANT_OF_VARIANT: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  // 503, not 500: a dependency failed, not the service, and a retry is right, with the same idempotency_key or
  // after reading back; the code, unlike UNAVAILABLE, says a blind retry may do the change twice.
  COMMIT_OUTCOME_UNKNOWN: 503,
  OVERLOADED: 503,
  SHUTTING_DOWN: 503,
  INTERNAL: 500,
};

/** A refusal decided by the rules: returned as a value, never thrown, by the pure domain. */
export interface Rejection {
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
}

/** A failure that ends a request or a message with a known code. */
export class ServiceFailure extends Error {
  override name = 'ServiceFailure';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get status(): ErrorStatus {
    return STATUS_OF_CODE[this.code];
  }

  static from(rejection: Rejection): ServiceFailure {
    return new ServiceFailure(rejection.code, rejection.message, rejection.details);
  }
}

/** A consumed message that can never be processed as it is (not JSON, not its schema): dead-lettered at once. */
export class PermanentMessageError extends Error {
  override name = 'PermanentMessageError';
}

/**
 * The connection of a transaction was lost while its COMMIT was on the way: the transaction may or may not have
 * committed. Thrown by Database.transaction (src/persistence/database.ts) only for the COMMIT statement itself;
 * `cause` is the driver's error.
 */
export class CommitOutcomeUnknownError extends Error {
  override name = 'CommitOutcomeUnknownError';

  constructor(options: { cause: unknown }) {
    super('the connection was lost during COMMIT: the transaction may or may not have committed', options);
  }
}

/** A dependency (PostgreSQL, NATS) still refused at the end of the start's patience (STARTUP_TIMEOUT_MS). */
export class DependencyUnreachableError extends Error {
  override name = 'DependencyUnreachableError';

  constructor(
    readonly dependency: string,
    readonly waitedMs: number,
    options: { cause: unknown },
  ) {
    super(`${dependency} still unreachable after ${waitedMs} ms`, options);
  }
}
