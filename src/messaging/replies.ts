/**
 * Replies on the wire (docs/CONTRACT.md): success = the response JSON; failure = the services-framework headers
 * Nats-Service-Error-Code / Nats-Service-Error and the body {"error": {"code", "message", "details"}}.
 * A 500 never carries the cause to the caller: the log has it.
 *
 * A request's reply subject is the caller's choice, and the service's connection may publish where a caller may
 * not (the DISTRIBUTION stream's subjects among them). So a reply goes only to an inbox: a reply subject starting
 * with one of REPLY_SUBJECT_PREFIXES (`_INBOX.` and the per-client `_INBOX_<name>.`). Any other is dropped, no
 * reply sent, and logged at warn with the subject. The framework's own $SRV replies are the framework's.
 */
import { headers, type Msg } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { ErrorReply } from '../../generated/types.js';
import { ServiceFailure } from '../errors.js';

export interface Replies {
  /** True when `msg` has a reply subject and it is an inbox; else false, and a refused subject is logged at warn. */
  allowed(msg: Msg, logFields?: object): boolean;
  json(msg: Msg, body: unknown): void;
  failure(msg: Msg, failure: ServiceFailure): void;
}

export interface RepliesOptions {
  /** REPLY_SUBJECT_PREFIXES: a reply subject must start with one of these. */
  allowedPrefixes: readonly string[];
  log: Logger;
}

export function createReplies(options: RepliesOptions): Replies {
  const { allowedPrefixes, log } = options;
  const allowed = (msg: Msg, logFields: object = {}): boolean => {
    if (!msg.reply) return false;
    if (allowedPrefixes.some((prefix) => msg.reply!.startsWith(prefix))) return true;
    log.warn({ ...logFields, subject: msg.subject, reply_subject: msg.reply }, 'reply dropped: the reply subject is not an inbox (REPLY_SUBJECT_PREFIXES)');
    return false;
  };
  return {
    allowed,
    json(msg, body) {
      if (allowed(msg)) msg.respond(JSON.stringify(body));
    },
    failure(msg, failure) {
      if (!allowed(msg)) return;
      const body: ErrorReply = {
        error: { code: failure.code, message: failure.message, ...(failure.details !== undefined && { details: failure.details }) },
      };
      const h = headers();
      h.set('Nats-Service-Error-Code', String(failure.status));
      // A header value cannot hold a line break.
      h.set('Nats-Service-Error', failure.message.replace(/[\r\n]+/g, ' '));
      msg.respond(JSON.stringify(body), { headers: h });
    },
  };
}
