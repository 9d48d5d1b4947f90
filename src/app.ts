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
import { createCounterAnnouncer } from './application/counter-announcer.js';
import type { IdPrefix, ServiceDeps } from './application/deps.js';
import { createMailbox } from './application/mailbox.js';
import { createOperations } from './application/operations.js';
import { createSlugReadCache } from './application/slug-read-cache.js';
import { createLogger, redactUrls, type Logger } from './logger.js';
import { startCommandService, type CommandService } from './messaging/command-service.js';
import { createReplies } from './messaging/replies.js';
import { createDatabase } from './persistence/database.js';
import { migrate } from './persistence/orm.js';
import { PACKAGE_VERSION } from './version.js';
import { jetstream } from '@nats-io/jetstream';
import { startDedupCleanup, type Cleanup } from './application/dedup-cleanup.js';
import { deadLetterRetention, idempotencyRetention, startRetentionCleanup } from './application/retention-cleanup.js';
import { addOpsEndpoints } from './messaging/ops-endpoints.js';
import { provisionUpstreamConsumer } from './messaging/upstream-provisioning.js';
import { createUpstreamConsumer, type ConsumerHooks, type UpstreamConsumer } from './messaging/upstream-consumer.js';
import { provisionEventStream } from './messaging/event-stream.js';
import { createOutboxRelay, relayOptionsOf, type OutboxRelay, type RelayHooks } from './messaging/outbox-relay.js';
import { addInstanceOpsEndpoints, type InstanceOps } from './messaging/ops-instance-endpoints.js';
import { addOutboxOpsEndpoints } from './messaging/ops-outbox-endpoints.js';
import { startProbeServer, type ProbeServer, type ReadinessCheck } from './http/probes.js';
import { connectPatiently, type Connections } from './lifecycle/connect-patiently.js';

export interface App {
  start(): Promise<void>;
  /**
   * Stops intake (requests and consumed messages), answers or refuses (503 SHUTTING_DOWN) what is in flight,
   * flushes the counters, lets the relay publish what is committed, drains NATS, closes the database and last the
   * probes. Called during `start()`, it first lets the start end (provisioning is abandoned). Safe to call twice.
   */
  stop(): Promise<void>;
  /** What a stop still has to do, for the log line of a stop abandoned at SHUTDOWN_TIMEOUT_MS. */
  pendingWork(): PendingWork;
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
  /** Aborted when the process is told to stop while `createApp` waits for PostgreSQL or NATS: the wait ends. */
  signal?: AbortSignal;
}

/** The step a stop is at, and the work not yet finished. */
export interface PendingWork {
  step: string;
  requests_in_flight: number;
  consumed_messages_in_flight: number;
  mailbox_pending: number;
  counts_unwritten: number;
  /** This instance holds the relay lock (its unpublished events wait for the next active relay once it stops). */
  relay_active: boolean;
}

type Phase = 'starting' | 'serving' | 'stopping';

/**
 * Readiness (GET /readyz): the instance has started and is not stopping, NATS is connected (a round trip to the
 * server), and the database answers `select 1` on the service's own pool. Each is bounded by the probe server.
 */
function readinessChecks(phase: () => Phase, live: Partial<Connections>): Record<string, ReadinessCheck> {
  return {
    instance: () => {
      if (phase() !== 'serving') throw new Error(phase());
    },
    nats: () => {
      if (!live.nc) throw new Error('not connected yet');
      return live.nc.rtt();
    },
    database: () => {
      if (!live.orm) throw new Error('not connected yet');
      return live.orm.em.fork().execute('select 1');
    },
  };
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

/** NATS's default max_payload, assumed while the server's INFO is not known. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Monotonic ULIDs: sortable by creation time; within one millisecond they count up. */
const ulid = monotonicFactory(bufferedRandom());

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  if (!config.databaseUrl)
    throw new Error('config.databaseUrl is empty (DATABASE_URL is unset): start the embedded database first (startLocalServices in src/embedded/local-services.ts)');
  const log = overrides.log ?? createLogger(config.logLevel, config.logFormat);
  let phase: Phase = 'starting';
  /** What the stop is doing now (PendingWork.step). */
  let step = 'waiting for the start to end';
  // The probes answer from the first moment (alive while waiting for the dependencies), ready only once serving.
  const live: Partial<Connections> = {};
  const port = config.lifecycle.opsHttpPort;
  const probes: ProbeServer | undefined = port === undefined ? undefined : await startProbeServer({ port, log, checks: readinessChecks(() => phase, live) });
  let connections: Connections;
  try {
    connections = await connectPatiently(config, log, overrides.signal);
  } catch (err) {
    await probes?.close();
    throw err;
  }
  Object.assign(live, connections);
  const { orm, nc }: { orm: MikroORM; nc: NatsConnection } = connections;
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
  // Views and clicks are announced per window, from what the counters leave pending in the database.
  const announcer = createCounterAnnouncer(deps, { windowMs: config.counterEventWindowMs, lockTimeoutMs: config.counters.lockTimeoutMs, batchSize: 500 });
  let commands: CommandService | undefined;
  let stopped: Promise<void> | undefined;
  // Events out: the relay publishes committed outbox rows; replies never wait for it.
  const relay = config.relay.enabled
    ? createOutboxRelay({ databaseUrl: config.databaseUrl, js: jetstream(nc), log, hooks: overrides.relayHooks }, relayOptionsOf(config))
    : undefined;
  const provisioning = new AbortController();
  // Events in: CourseFactory's events through the durable consumer, into the same mailbox and transactions.
  const consumer = config.consumer.enabled ? createUpstreamConsumer(nc, deps, config.consumer, config.nats.subjectPrefix, overrides.consumerHooks) : undefined;
  let cleanup: Cleanup | undefined;
  let retentionCleanup: Cleanup | undefined;
  let instanceOps: InstanceOps | undefined;
  let started: Promise<void> | undefined;

  const replies = createReplies({ allowedPrefixes: config.nats.replySubjectPrefixes, log });

  async function startAll(): Promise<void> {
    const startedAt = new Date();
    const applied = await migrate(orm, config.databaseUrl);
    log.info({ database: redactUrls(config.databaseUrl), migrations_applied: applied }, 'database ready');
    announcer.start();
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
      replies,
      statsHandler: (endpoint) => instanceOps?.statsData(endpoint) ?? Promise.resolve(null),
    });
    addOpsEndpoints(commands.service, {
      deps,
      consumer,
      subjectPrefix: config.nats.subjectPrefix,
      log,
      endpointStats: commands.endpointStats,
      maxPayload: () => nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD,
      replies,
    });
    addOutboxOpsEndpoints(commands.service, { db: deps.db, subjectPrefix: config.nats.subjectPrefix, log, endpointStats: commands.endpointStats, replies });
    instanceOps = addInstanceOpsEndpoints(commands.service, {
      probes: { nc, orm, db: deps.db, relay, consumer, consumerSettings: config.consumer, counters, mailbox: deps.mailbox, checkTimeoutMs: config.healthCheckTimeoutMs },
      version: PACKAGE_VERSION,
      startedAt,
      queueGroup: config.nats.queueGroup,
      subjectPrefix: config.nats.subjectPrefix,
      log,
      endpointStats: commands.endpointStats,
      replies,
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
    retentionCleanup = startRetentionCleanup(
      deps,
      [deadLetterRetention(config.retention.deadLetterMs), idempotencyRetention(config.retention.idempotencyMs)],
      { intervalMs: config.consumer.cleanupIntervalMs, batchSize: config.consumer.cleanupBatch },
      log,
    );
    log.info(
      { nats: redactUrls(config.nats.url), service_name: commands.service.info().name, instance_id: commands.service.info().id, subject_prefix: config.nats.subjectPrefix },
      'serving requests',
    );
    if (phase === 'starting') phase = 'serving';
  }

  /** Records the stop's step (PendingWork.step) and logs it. */
  function stepTo(name: string): void {
    step = name;
    log.info({ step }, 'stopping');
  }

  return {
    deps,
    nc,
    relay,
    consumer,
    start() {
      started ??= startAll();
      return started;
    },
    stop() {
      stopped ??= (async () => {
        phase = 'stopping';
        // A start still provisioning gives up; one migrating finishes first. Either way it ends before we stop.
        provisioning.abort();
        await started?.catch(() => undefined);
        stepTo('closing intake, answering the requests in flight');
        await commands?.stop().catch((err: unknown) => log.warn({ err }, 'stopping the service endpoints failed'));
        cleanup?.stop();
        retentionCleanup?.stop();
        stepTo('settling the consumed messages in hand');
        await consumer?.stop();
        // New work is refused with SHUTTING_DOWN from here on; what was accepted finishes.
        stepTo('finishing the commands accepted');
        await deps.mailbox.stop();
        stepTo('writing the counts taken');
        await Promise.all([counters.views.stop(), counters.clicks.stop()]);
        stepTo('announcing the views and clicks counted');
        await announcer.stop();
        if (relay) {
          // Publish what is committed (bounded), then release the relay lock so a standby takes over at once.
          stepTo('publishing the committed outbox rows');
          if (!(await relay.flush(config.relay.flushTimeoutMs))) log.warn('outbox relay not drained before stopping; the next active relay publishes the rest');
          stepTo('releasing the relay lock');
          await relay.stop();
        }
        stepTo('draining the NATS connection');
        await nc.drain().catch(() => undefined);
        stepTo('closing the database pool');
        await orm.close(true);
        stepTo('closing the probes');
        await probes?.close();
        log.info('stopped');
      })();
      return stopped;
    },
    pendingWork: () => ({
      step,
      requests_in_flight: commands?.inFlight ?? 0,
      consumed_messages_in_flight: consumer?.status().inFlight ?? 0,
      mailbox_pending: deps.mailbox.pending,
      counts_unwritten: counters.views.pending + counters.clicks.pending,
      relay_active: relay?.active ?? false,
    }),
  };
}
