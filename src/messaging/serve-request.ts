/**
 * Serves one request of an endpoint: runs the work, replies with its result or with the failure policy's judgement
 * of what it threw (replies.ts has the wire format), records the request in the endpoint's STATS and logs it in one
 * line (request-log.ts has the fields and levels). It never rejects: the services framework calls handlers without
 * awaiting them, so a rejection would go unhandled (main.ts logs one as a bug and keeps running) and the caller
 * would wait for its timeout. A request whose reply subject is not an inbox (replies.ts) is dropped before any work:
 * no reply, no STATS figure, a warn line with the subject.
 */
import type { ServiceMsg } from '@nats-io/services';
import type { Logger } from 'pino';
import { ServiceFailure } from '../errors.js';
import { classify } from '../failure-policy.js';
import type { EndpointStats } from './endpoint-stats.js';
import type { Replies } from './replies.js';
import { millisecondsSince } from './log-duration.js';
import type { RequestLogFields, RequestLogLevel } from './request-log.js';

export interface ServeRequestOptions {
  endpoint: string;
  stats: EndpointStats;
  /** The endpoint's logger (bound to its operation or endpoint name). */
  log: Logger;
  /** The level of a served or refused request; failures are logged at `error`. */
  logLevel: RequestLogLevel;
  /** This request's line: the work may fill in ids while it runs; code, status and duration are added here. */
  logFields: RequestLogFields;
  /** Where replies may go (REPLY_SUBJECT_PREFIXES). */
  replies: Replies;
}

export async function serveRequest(msg: ServiceMsg, options: ServeRequestOptions, work: () => Promise<unknown>): Promise<void> {
  const { log, logFields: fields, replies } = options;
  if (msg.reply && !replies.allowed(msg, { endpoint: options.endpoint, ...fields })) return;
  const begun = options.stats.begin();
  let error: { status: number; message: string } | undefined;
  try {
    replies.json(msg, await work());
    if (log.isLevelEnabled(options.logLevel)) {
      fields.code = 'ok';
      fields.status = 200;
      fields.duration_ms = millisecondsSince(begun);
      log[options.logLevel](fields, 'request served');
    }
  } catch (err) {
    const outcome = classify(err);
    error = { status: outcome.status, message: outcome.message };
    try {
      replies.failure(msg, new ServiceFailure(outcome.code, outcome.message, outcome.details));
    } catch (replyErr) {
      log.warn({ err: replyErr, ...fields }, 'could not send the error reply');
    }
    fields.code = outcome.code;
    fields.status = outcome.status;
    fields.duration_ms = millisecondsSince(begun);
    if (outcome.disposition === 'fail' || outcome.status >= 500) {
      fields.err = err;
      log.error(fields, 'request failed');
    } else log[options.logLevel](fields, 'request refused');
  } finally {
    options.stats.record(options.endpoint, begun, error);
  }
}
