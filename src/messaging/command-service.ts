/**
 * The request/reply API on the NATS services framework (`course_distribution`, answering $SRV.PING/INFO/STATS).
 * One endpoint per operation on `course_distribution.*.<operation>`; the tenant is the subject's second token.
 * Per request: tenant check (400) -> size, JSON and schema check (413/400) -> use case -> reply after commit.
 * A request to an operation that does not exist gets 400 UNKNOWN_OPERATION from a catch-all subscription.
 * Every request is answered through serveRequest (failures judged by the failure policy, STATS kept true) and logged
 * in one line with tenant, distribution, command and correlation ids (request-log.ts), never with its body.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { Svcm, type Endpoint, type Service, type ServiceMsg } from '@nats-io/services';
import type { Logger } from 'pino';
import { schemaIds, type SchemaName } from '../../generated/schemas.js';
import { OPERATIONS, type Operation } from '../contracts/event-types.js';
import { formatIssues, type ContractValidator } from '../contracts/validator.js';
import type { IdPrefix, RequestContext } from '../application/deps.js';
import type { OperationHandlers } from '../application/operations.js';
import { ServiceFailure } from '../errors.js';
import { trackEndpointStats, type EndpointStats } from './endpoint-stats.js';
import type { Replies } from './replies.js';
import { distributionIdOf, requestLogLevel, type RequestLogFields } from './request-log.js';
import { serveRequest } from './serve-request.js';
import { commandEndpointSubject, isValidTenantId, OPS_TOKEN, parseCommandSubject, SERVICE_NAME, withPrefix } from './subjects.js';

export interface CommandServiceOptions {
  nc: NatsConnection;
  log: Logger;
  validator: ContractValidator;
  operations: OperationHandlers;
  newId: (prefix: IdPrefix) => string;
  version: string;
  subjectPrefix: string;
  queueGroup: string;
  /** Where replies may go (REPLY_SUBJECT_PREFIXES); the operator endpoints answer through the same. */
  replies: Replies;
  /** The `data` of an endpoint in `$SRV.STATS` (the framework's statsHandler); null when absent. */
  statsHandler?: (endpoint: Endpoint) => Promise<unknown>;
}

export interface CommandService {
  service: Service;
  /** The endpoint figures of `$SRV.STATS`; operator endpoints added to `service` record theirs here too. */
  endpointStats: EndpointStats;
  /** Requests taken and not yet answered. */
  readonly inFlight: number;
  /**
   * Stops taking requests (the endpoints' subscriptions drain: what the server delivered before is still taken)
   * and resolves when every request taken has been answered, with its result or a refusal.
   */
  stop(): Promise<void>;
}

export async function startCommandService(options: CommandServiceOptions): Promise<CommandService> {
  const { nc, log, validator, subjectPrefix, replies } = options;
  const service = await new Svcm(nc).add({
    name: SERVICE_NAME,
    version: options.version,
    description: 'Course landing pages (distributions): commands and queries per tenant; events on JetStream stream DISTRIBUTION.',
    queue: options.queueGroup,
    metadata: { subject_prefix: subjectPrefix },
    statsHandler: options.statsHandler,
  });

  const endpointStats = trackEndpointStats(service);
  const endpointLogs = new Map<Operation, Logger>(OPERATIONS.map((operation) => [operation, log.child({ operation })]));
  /** The requests being served, so stop() can wait for their replies. */
  const serving = new Set<Promise<void>>();
  for (const operation of OPERATIONS) {
    service.addEndpoint(operation, {
      subject: commandEndpointSubject(subjectPrefix, operation),
      metadata: {
        request_schema: schemaIds[`op.${operation}.request`],
        response_schema: schemaIds[`op.${operation}.response`],
        error_schema: schemaIds.error,
      },
      handler: (err, msg) => {
        if (err) return void log.error({ err, operation }, 'endpoint stopped with an error');
        const served: Promise<void> = handle(operation, msg).finally(() => serving.delete(served));
        serving.add(served);
      },
    });
  }

  const known = new Set<string>(OPERATIONS);
  // Sees every command subject (in its own queue group, so once per request across instances) and answers only
  // the ones no endpoint serves; operator subjects (ops.) belong to the operator endpoints.
  const unknown: Subscription = nc.subscribe(withPrefix(subjectPrefix, `${SERVICE_NAME}.*.*`), {
    queue: `${options.queueGroup}_unknown_operation`,
    callback: (err, msg) => {
      if (err) return;
      const parsed = parseCommandSubject(subjectPrefix, msg.subject);
      if (!parsed || known.has(parsed.operation) || parsed.tenant === OPS_TOKEN || !msg.reply) return;
      replies.failure(msg, new ServiceFailure('UNKNOWN_OPERATION', `unknown operation "${parsed.operation}"; operations: ${OPERATIONS.join(', ')}`));
    },
  });

  async function handle<O extends Operation>(operation: O, msg: ServiceMsg): Promise<void> {
    const tenant = parseCommandSubject(subjectPrefix, msg.subject)?.tenant ?? '';
    const logFields: RequestLogFields = { tenant };
    const endpointLog = endpointLogs.get(operation) ?? log;
    await serveRequest(msg, { endpoint: operation, stats: endpointStats, log: endpointLog, logLevel: requestLogLevel(operation), logFields, replies }, async () => {
      if (!isValidTenantId(tenant)) {
        throw new ServiceFailure('BAD_TENANT', `"${tenant}" is not a valid tenant id (^[a-z0-9][a-z0-9_-]{0,62}$, not "ops")`);
      }
      const request = validator.parse(`op.${operation}.request` as SchemaName, msg.data);
      if (!request.ok) {
        const code = request.kind === 'too_large' ? 'PAYLOAD_TOO_LARGE' : request.kind === 'schema' ? 'VALIDATION_FAILED' : 'BAD_REQUEST';
        throw new ServiceFailure(code, formatIssues(request.issues), request.issues);
      }
      const body = request.value as { correlation_id?: string };
      const context: RequestContext = {
        tenantId: tenant,
        correlationId: body.correlation_id ?? options.newId('corr'),
        commandId: options.newId('cmd'),
      };
      logFields.distribution_id = distributionIdOf(request.value);
      logFields.command_id = context.commandId;
      logFields.correlation_id = context.correlationId;
      const handler = options.operations[operation] as (c: RequestContext, r: unknown) => Promise<unknown>;
      const reply = await handler(context, request.value);
      logFields.distribution_id = distributionIdOf(reply) ?? logFields.distribution_id;
      return reply;
    });
  }

  return {
    service,
    endpointStats,
    get inFlight() {
      return serving.size;
    },
    async stop() {
      unknown.unsubscribe();
      await service.stop();
      // serveRequest never rejects, so this waits for the replies and nothing else.
      while (serving.size > 0) await Promise.all(serving);
    },
  };
}
