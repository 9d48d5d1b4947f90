/**
 * Replies on the wire (docs/CONTRACT.md): success = the response JSON; failure = the services-framework headers
 * Nats-Service-Error-Code / Nats-Service-Error and the body {"error": {"code", "message", "details"}}.
 * A 500 never carries the cause to the caller: the log has it.
 */
import { headers, type Msg } from '@nats-io/nats-core';
import type { ErrorReply } from '../../generated/types.js';
import { ServiceFailure } from '../errors.js';

export function replyJson(msg: Msg, body: unknown): void {
  msg.respond(JSON.stringify(body));
}

export function replyFailure(msg: Msg, failure: ServiceFailure): void {
  const body: ErrorReply = {
    error: { code: failure.code, message: failure.message, ...(failure.details !== undefined && { details: failure.details }) },
  };
  const h = headers();
  h.set('Nats-Service-Error-Code', String(failure.status));
  // A header value cannot hold a line break.
  h.set('Nats-Service-Error', failure.message.replace(/[\r\n]+/g, ' '));
  msg.respond(JSON.stringify(body), { headers: h });
}
