/**
 * The log line of a request: which fields it has and at which level it is written (README "Logs").
 *
 * Contracts
 * - One line per request, written by serveRequest when the reply has been sent: `request served` (code `ok`),
 *   `request refused` (a 4xx judged by the failure policy) or `request failed` (5xx or a `fail` disposition, at
 *   `error` with the cause in `err`).
 * - State-changing operations and operator endpoints log served and refused requests at `info`; queries and the
 *   view/click counters (the high-volume paths) at `debug`.
 * - The fields are ids, codes and timings only: never a request or reply body (titles and descriptions stay out).
 */
import type { Operation } from '../contracts/event-types.js';

/** The level of a served or refused request; a failed one is always logged at `error`. */
export type RequestLogLevel = 'info' | 'debug';

/**
 * The fields of a request's line, filled in as they become known (tenant from the subject, ids once the body is
 * valid, distribution id from the reply). One object per request, written as it is: no copies on the hot path.
 */
export interface RequestLogFields {
  tenant?: string;
  distribution_id?: string;
  command_id?: string;
  correlation_id?: string;
  /** `ok`, or the error code of the reply. */
  code?: string;
  /** 200, or the status of the error reply. */
  status?: number;
  duration_ms?: number;
  /** The cause of a failed request. */
  err?: unknown;
}

const LEVEL_OF: Record<Operation, RequestLogLevel> = {
  create: 'info',
  update: 'info',
  delete: 'info',
  publish: 'info',
  unpublish: 'info',
  create_micro_niche_variant: 'info',
  bump_version: 'info',
  get: 'debug',
  get_by_slug: 'debug',
  list: 'debug',
  log_view: 'debug',
  track_enrollment_click: 'debug',
};

/** The level of an operation's served and refused requests. */
export function requestLogLevel(operation: Operation): RequestLogLevel {
  return LEVEL_OF[operation];
}

/**
 * The distribution a request is about, for its line: the reply's `id` (the new one for `create` and
 * `create_micro_niche_variant`) or `distribution_id` (counters), else the request's `id` or `parent_id`.
 */
export function distributionIdOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { id, distribution_id: distributionId, parent_id: parentId } = body as Record<string, unknown>;
  if (typeof id === 'string') return id;
  if (typeof distributionId === 'string') return distributionId;
  return typeof parentId === 'string' ? parentId : undefined;
}
