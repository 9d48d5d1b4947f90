/**
 * Composition root: createApp(config) wires config -> database -> NATS -> use cases -> endpoints and returns
 * { start, stop, deps }. Tests boot the real app through it, over a migrated database.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { NatsConnection } from '@nats-io/nats-core';
import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import type { Config } from './config.js';
import { createContractValidator } from './contracts/validator.js';
import { createCounter, type Counter } from './application/counters.js';
import type { IdPrefix, ServiceDeps } from './application/deps.js';
import { createMailbox } from './application/mailbox.js';
import { createOperations } from './application/operations.js';
import { createSlugReadCache } from './application/slug-read-cache.js';
import { createLogger, redactUrls, type Logger } from './logger.js';
import { connectNats } from './messaging/connection.js';
import { startCommandService, type CommandService } from './messaging/command-service.js';
import { createDatabase } from './persistence/database.js';
import { createOrm, migrate } from './persistence/orm.js';
import { PACKAGE_VERSION } from './version.js';
import { jetstream } from '@nats-io/jetstream';
import { startDedupCleanup, type Cleanup } from './application/dedup-cleanup.js';
import { addOpsEndpoints } from './messaging/ops-endpoints.js';
import { provisionUpstreamConsumer } from './messaging/upstream-provisioning.js';
import { createUpstreamConsumer, type ConsumerHooks, type UpstreamConsumer } from './messaging/upstream-consumer.js';
import { provisionEventStream } from './messaging/event-stream.js';
import { createOutboxRelay, type OutboxRelay, type RelayHooks } from './messaging/outbox-relay.js';
import { addInstanceOpsEndpoints, type InstanceOps } from './messaging/ops-instance-endpoints.js';

export interface App {
  start(): Promise<void>;
  /** Stops intake, drains in-flight work, flushes counters, closes NATS and the database. Safe to call twice. */
  stop(): Promise<void>;
  readonly deps: ServiceDeps;
  readonly nc: NatsConnection;
  /** The outbox relay (undefined when RELAY_ENABLED=false); `status()` reports its backlog and failures. */
  readonly relay?: OutboxRelay;
  /** The upstream consumer (undefined when CONSUMER_ENABLED=false). */
  readonly consumer?: UpstreamConsumer;
}

export interface AppOverrides {
  log?: Logger;
  now?: () => Date;
  /** Test seams of the outbox relay (e.g. a failure after the PubAck, before the row is marked). */
  relayHooks?: RelayHooks;
  /** Test seams of the upstream consumer (e.g. a crash after the commit, before the ack). */
  consumerHooks?: ConsumerHooks;
}

/**
 * Cryptographic random bytes, drawn 4 KiB at a time: ulid's own source asks the OS for one byte per character,
 * which showed up as 4 % of the CPU of a create.
 */
function bufferedRandom(): () => number {
  const pool = new Uint8Array(4096);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    return pool[next++]! / 256;
  };
}

/** Monotonic ULIDs: sortable by creation time; within one millisecond they count up. */
const ulid = monotonicFactory(bufferedRandom());

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const log = overrides.log ?? createLogger(config.logLevel, config.logFormat);
  const orm: MikroORM = await createOrm(config);
  let nc: NatsConnection;
  try {
    nc = await connectNats(config.nats, log);
  } catch (err) {
    await orm.close(true);
    throw err;
  }
  const deps: ServiceDeps = {
    orm,
    db: createDatabase(orm),
    validator: createContractValidator({ maxBytes: config.maxRequestBytes }),
    mailbox: createMailbox({ maxPending: config.mailbox.maxPending }),
    log,
    now: overrides.now ?? (() => new Date()),
    newId,
    commandMaxAttempts: config.commandMaxAttempts,
  };
  const counters: { views: Counter; clicks: Counter } = {
    views: createCounter(deps, { kind: 'views', ...config.counters }),
    clicks: createCounter(deps, { kind: 'clicks', ...config.counters }),
  };
  let commands: CommandService | undefined;
  let stopped: Promise<void> | undefined;
  // Events out: the relay publishes committed outbox rows; replies never wait for it.
  const relay = config.relay.enabled
    ? createOutboxRelay(
        { databaseUrl: config.databaseUrl, js: jetstream(nc), log, hooks: overrides.relayHooks },
        { ...config.relay, subjectPrefix: config.nats.subjectPrefix, streamName: config.stream.name, statementTimeoutMs: config.db.statementTimeoutMs },
      )
    : undefined;
  const provisioning = new AbortController();
  // Events in: CourseFactory's events through the durable consumer, into the same mailbox and transactions.
  const consumer = config.consumer.enabled ? createUpstreamConsumer(nc, deps, config.consumer, config.nats.subjectPrefix, overrides.consumerHooks) : undefined;
  let cleanup: Cleanup | undefined;
  let instanceOps: InstanceOps | undefined;

  return {
    deps,
    nc,
    relay,
    consumer,
    async start() {
      const startedAt = new Date();
      const applied = await migrate(orm, config.databaseUrl);
      log.info({ database: redactUrls(config.databaseUrl), migrations_applied: applied }, 'database ready');
      if (relay) {
        await provisionEventStream(nc, config.stream, config.nats.subjectPrefix, log, { retryMs: config.relay.lockRetryMs, signal: provisioning.signal });
        relay.start();
      }
      commands = await startCommandService({
        nc,
        log,
        validator: deps.validator,
        operations: createOperations(deps, counters, createSlugReadCache(config.readCache)),
        newId,
        version: PACKAGE_VERSION,
        subjectPrefix: config.nats.subjectPrefix,
        queueGroup: config.nats.queueGroup,
        statsHandler: (endpoint) => instanceOps?.statsData(endpoint) ?? Promise.resolve(null),
      });
      addOpsEndpoints(commands.service, { deps, consumer, subjectPrefix: config.nats.subjectPrefix, log, endpointStats: commands.endpointStats });
      instanceOps = addInstanceOpsEndpoints(commands.service, {
        probes: { nc, orm, db: deps.db, relay, consumer, consumerSettings: config.consumer, counters, mailbox: deps.mailbox, checkTimeoutMs: config.healthCheckTimeoutMs },
        version: PACKAGE_VERSION,
        startedAt,
        queueGroup: config.nats.queueGroup,
        subjectPrefix: config.nats.subjectPrefix,
        log,
        endpointStats: commands.endpointStats,
      });
      if (consumer) {
        await provisionUpstreamConsumer(nc, config.consumer, config.nats.subjectPrefix, log, { retryMs: config.consumer.retryMaxMs, signal: provisioning.signal });
        consumer.start();
        cleanup = startDedupCleanup(
          deps,
          { retentionMs: config.consumer.dedupRetentionMs, intervalMs: config.consumer.cleanupIntervalMs, batchSize: config.consumer.cleanupBatch },
          log,
        );
      }
      log.info(
        { nats: redactUrls(config.nats.url), service_name: commands.service.info().name, instance_id: commands.service.info().id, subject_prefix: config.nats.subjectPrefix },
        'serving requests',
      );
    },
    stop() {
      stopped ??= (async () => {
        await commands?.stop().catch((err: unknown) => log.warn({ err }, 'stopping the service endpoints failed'));
        cleanup?.stop();
        await consumer?.stop();
        await deps.mailbox.stop();
        await Promise.all([counters.views.stop(), counters.clicks.stop()]);
        provisioning.abort();
        if (relay) {
          // Publish what is committed (bounded), then release the relay lock so a standby takes over at once.
          if (!(await relay.flush(config.relay.flushTimeoutMs))) log.warn('outbox relay not drained before stopping; the next active relay publishes the rest');
          await relay.stop();
        }
        await nc.drain().catch(() => undefined);
        await orm.close(true);
        log.info('stopped');
      })();
      return stopped;
    },
  };
}
