/**
 * Serves one request of an endpoint: runs the work, replies with its result or with the failure policy's judgement
 * of what it threw (replies.ts has the wire format), records the request in the endpoint's STATS and logs a
 * failure. It never rejects: the services framework calls handlers without awaiting them, so a rejection would go
 * unhandled (main.ts logs one as a bug and keeps running) and the caller would wait for its timeout.
 */
import type { ServiceMsg } from '@nats-io/services';
import type { Logger } from 'pino';
import { ServiceFailure } from '../errors.js';
import { classify } from '../failure-policy.js';
import type { EndpointStats } from './endpoint-stats.js';
import { replyFailure, replyJson } from './replies.js';

export interface ServeRequestOptions {
  endpoint: string;
  stats: EndpointStats;
  log: Logger;
  /** Fields of the log line of a failed request (operation, tenant, ...). */
  logFields?: Record<string, unknown>;
}

export async function serveRequest(msg: ServiceMsg, options: ServeRequestOptions, work: () => Promise<unknown>): Promise<void> {
  const begun = options.stats.begin();
  let error: { status: number; message: string } | undefined;
  try {
    replyJson(msg, await work());
    options.log.debug({ ...options.logFields, ms: Number(process.hrtime.bigint() - begun) / 1e6 }, 'request served');
  } catch (err) {
    const outcome = classify(err);
    error = { status: outcome.status, message: outcome.message };
    if (outcome.disposition === 'fail' || outcome.status >= 500) options.log.error({ err, ...options.logFields, code: outcome.code }, 'request failed');
    else options.log.debug({ ...options.logFields, code: outcome.code }, 'request refused');
    try {
      replyFailure(msg, new ServiceFailure(outcome.code, outcome.message, outcome.details));
    } catch (replyErr) {
      options.log.warn({ err: replyErr, ...options.logFields }, 'could not send the error reply');
    }
  } finally {
    options.stats.record(options.endpoint, begun, error);
  }
}
