/**
 * Operator endpoints under `course_distribution.ops.<operation>` (docs/CONTRACT.md), on the same service:
 * - `dead_letters`  {limit?, after_id?, include_replayed?} -> {items: [summary], next_after_id}
 * - `dead_letter`   {id} -> the letter with its original bytes (base64, and as text when it is UTF-8); a letter too
 *   large for the server's max_payload comes with its first bytes only, `truncated: true` and `original_size`
 * - `replay_dead_letter` {id} -> {id, outcome}: the original message runs through the same path, dedup included,
 *   so replaying a message that was processed meanwhile is a harmless 'duplicate'.
 * Replies and errors follow the same wire rules as the tenant operations.
 */
import type { Service, ServiceMsg } from '@nats-io/services';
import type { Logger } from 'pino';
import type { ServiceDeps } from '../application/deps.js';
import { ServiceFailure } from '../errors.js';
import { findDeadLetter, listDeadLetters, type DeadLetter } from '../persistence/dead-letters.js';
import { classify } from '../failure-policy.js';
import { withLetterBytes } from './dead-letter-reply.js';
import type { EndpointStats } from './endpoint-stats.js';
import type { Replies } from './replies.js';
import { serveRequest } from './serve-request.js';
import { OPS_TOKEN, SERVICE_NAME, withPrefix } from './subjects.js';
import type { UpstreamConsumer } from './upstream-consumer.js';

type Body = Record<string, unknown>;

/** The request body as an object with only `allowed` fields (an empty body is `{}`); else 400. */
export function parseBody(msg: ServiceMsg, allowed: readonly string[]): Body {
  let body: unknown = {};
  if (msg.data.length > 0) {
    try {
      body = msg.json();
    } catch {
      throw new ServiceFailure('BAD_REQUEST', 'body is not valid JSON');
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ServiceFailure('BAD_REQUEST', 'body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw new ServiceFailure(
      'VALIDATION_FAILED',
      `unknown field(s): ${unknown.join(', ')}`,
      unknown.map((k) => ({ path: `/${k}`, reason: 'unknown field' })),
    );
  return body as Body;
}

/** `body[field]` (or `fallback`) as an integer from 1 to `max`; else 422 naming the field. */
export function positiveInteger(body: Body, field: string, fallback?: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = body[field] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ServiceFailure('VALIDATION_FAILED', `${field} must be an integer from 1 to ${max}`, [{ path: `/${field}`, reason: `must be an integer from 1 to ${max}` }]);
  }
  return value;
}

function summary(letter: DeadLetter) {
  return {
    id: letter.id,
    subject: letter.subject,
    message_id: letter.messageId,
    reason: letter.reason,
    delivery_count: letter.deliveryCount,
    stream: letter.stream,
    stream_seq: letter.streamSeq,
    failed_at: letter.failedAt,
    replayed_at: letter.replayedAt,
    replay_outcome: letter.replayOutcome,
  };
}

export interface OpsEndpointsOptions {
  deps: ServiceDeps;
  consumer?: UpstreamConsumer;
  subjectPrefix: string;
  log: Logger;
  endpointStats: EndpointStats;
  replies: Replies;
  /** The largest message the connected server accepts (`nc.info.max_payload`), read at each request. */
  maxPayload: () => number;
}

/** Where an operator endpoint listens beyond the default `[prefix.]course_distribution.ops.<name>` in the service's queue group. */
export interface OpsRoute {
  /** Endpoint name in $SRV.INFO/STATS; default `ops_<name>`. */
  endpointName?: string;
  /** Tokens after `ops.`; default `<name>`. */
  subjectTail?: string;
  /** Queue group; default the service's. */
  queue?: string;
}

/** Adds one operator endpoint answered through serveRequest (replies, STATS figures and failure logs as for all). */
export function addOpsEndpoint(
  service: Service,
  options: Pick<OpsEndpointsOptions, 'subjectPrefix' | 'log' | 'endpointStats' | 'replies'>,
  name: string,
  handler: (msg: ServiceMsg) => Promise<unknown>,
  route: OpsRoute = {},
): void {
  const endpointName = route.endpointName ?? `ops_${name}`;
  const endpointLog = options.log.child({ endpoint: endpointName });
  service.addEndpoint(endpointName, {
    subject: withPrefix(options.subjectPrefix, `${SERVICE_NAME}.${OPS_TOKEN}.${route.subjectTail ?? name}`),
    queue: route.queue,
    handler: (err, msg) => {
      if (err) return void endpointLog.error({ err }, 'ops endpoint stopped with an error');
      // Operator requests are rare and each one matters: info, like the state-changing operations.
      void serveRequest(msg, { endpoint: endpointName, stats: options.endpointStats, log: endpointLog, logLevel: 'info', logFields: {}, replies: options.replies }, () =>
        handler(msg),
      );
    },
  });
}

export function addOpsEndpoints(service: Service, options: OpsEndpointsOptions): void {
  const { deps } = options;
  const endpoint = (name: string, handler: (msg: ServiceMsg) => Promise<unknown>) => addOpsEndpoint(service, options, name, handler);

  endpoint('dead_letters', async (msg) => {
    const body = parseBody(msg, ['limit', 'after_id', 'include_replayed']);
    const limit = positiveInteger(body, 'limit', 50, 500);
    const afterId = body.after_id === undefined ? 0 : positiveInteger(body, 'after_id');
    const items = await listDeadLetters(deps.db, { limit, afterId, includeReplayed: body.include_replayed === true });
    return { items: items.map(summary), next_after_id: items.length === limit ? (items.at(-1)?.id ?? null) : null };
  });

  const load = async (body: Body): Promise<DeadLetter> => {
    const id = positiveInteger(body, 'id');
    const letter = await findDeadLetter(deps.db, id);
    if (!letter) throw new ServiceFailure('NOT_FOUND', `dead letter ${id} does not exist`);
    return letter;
  };

  endpoint('dead_letter', async (msg) => {
    const letter = await load(parseBody(msg, ['id']));
    return withLetterBytes({ ...summary(letter), headers: letter.headers }, letter.data, options.maxPayload());
  });

  endpoint('replay_dead_letter', async (msg) => {
    const letter = await load(parseBody(msg, ['id']));
    if (!options.consumer) throw new ServiceFailure('UNAVAILABLE', 'the consumer is disabled on this instance (CONSUMER_ENABLED=false)');
    try {
      const outcome = await options.consumer.replay(letter);
      return { id: letter.id, outcome };
    } catch (err) {
      // A message that can never pass is the operator's 400; anything else (503, 500) is reported as judged.
      const judged = classify(err);
      if (judged.disposition !== 'reject') throw err;
      throw new ServiceFailure('VALIDATION_FAILED', `the message still cannot be processed: ${judged.code}: ${judged.message}`, undefined, { cause: err });
    }
  });
}
