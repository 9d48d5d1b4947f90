/**
 * The only reader of process.env. Every key is documented in README.md ("Configuration"); `loadConfig` parses
 * and validates them once and fails with one message naming every bad key.
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { LogFormat } from './logger.js';
import { packageRoot } from './package-root.js';

export interface Config {
  /**
   * DATABASE_URL. Empty when it is unset (development): then `local.embeddedDatabase` is set, and the start fills
   * this in with the embedded database's address (src/embedded/local-services.ts) before the app connects.
   */
  databaseUrl: string;
  /** What the process starts for itself in development, when DATABASE_URL or NATS_URL is unset (src/embedded/). */
  local: LocalServicesConfig;
  db: { poolMax: number; acquireTimeoutMs: number; statementTimeoutMs: number };
  nats: {
    url: string;
    user?: string;
    password?: string;
    /** Reply inboxes live under this prefix, so nats.conf can allow exactly `<prefix>.>` for subscriptions. */
    inboxPrefix: string;
    /** Put in front of every subject we use (empty in production; tests and shared dev servers use it). */
    subjectPrefix: string;
    /** Queue group of the command endpoints: instances sharing it split the requests. */
    queueGroup: string;
    /** REPLY_SUBJECT_PREFIXES: replies go only to reply subjects starting with one of these (inboxes); others are dropped. */
    replySubjectPrefixes: string[];
  };
  /** Largest request body accepted, in bytes (larger: 413). */
  maxRequestBytes: number;
  mailbox: { maxPending: number };
  /** Attempts of a command that meets a concurrent change (row version) before it answers 409. */
  commandMaxAttempts: number;
  counters: { flushIntervalMs: number; maxBatch: number; maxConcurrentFlushes: number; maxQueued: number; lockTimeoutMs: number; queueTimeoutMs: number };
  /** COUNTER_EVENT_WINDOW_MS: views/clicks are announced at most once per distribution, category and window (src/application/counter-announcer.ts). */
  counterEventWindowMs: number;
  /** get_by_slug cache: how long another instance's change may take to show here; 0 = no caching. */
  readCache: { ttlMs: number; maxEntries: number };
  logLevel: string;
  /** Limit of each probe of `ops.health` / `ops.status` (src/messaging/ops-instance-endpoints.ts). */
  healthCheckTimeoutMs: number;
  /** LOG_FORMAT: `json` (default) or `pretty` (pino-pretty, a devDependency: development only). */
  logFormat: LogFormat;
  /** The JetStream stream our events go to (created at start when missing; drift is logged, never overwritten). */
  stream: EventStreamConfig;
  /** The outbox relay (src/messaging/outbox-relay.ts). */
  relay: RelayConfig;
  /** CourseFactory's events in (src/messaging/upstream-consumer.ts). */
  consumer: ConsumerSettings;
  /** Start, readiness and stop of the process (src/lifecycle/, src/http/probes.ts). */
  lifecycle: LifecycleConfig;
  /**
   * How long replayed dead letters (after their replay) and idempotency records are kept; deleted on the
   * DEDUP_CLEANUP_INTERVAL_MS timer in batches of DEDUP_CLEANUP_BATCH (src/application/retention-cleanup.ts).
   */
  retention: { deadLetterMs: number; idempotencyMs: number };
}

export interface LocalServicesConfig {
  /** DATA_DIR: where the embedded database and a development nats-server keep their files (default `.data` in the checkout). */
  dataDir: string;
  /** DATABASE_URL is unset (never in production): PGlite in `<dataDir>/pglite`. */
  embeddedDatabase?: { dataDir: string };
  /**
   * NATS_URL is unset and NODE_ENV is not production: when nothing answers on `nats.url` (the default address), the
   * nats-server binary NATS_SERVER_BIN (a path, or a name looked up on the PATH) is started there with JetStream in
   * `<dataDir>/nats`.
   */
  natsServer?: { bin: string; storeDir: string };
}

export interface LifecycleConfig {
  /** OPS_HTTP_PORT: the port of `GET /healthz` and `GET /readyz`; undefined (the default) = no HTTP server. */
  opsHttpPort?: number;
  /** How long the start waits for PostgreSQL and NATS (growing delays) before exiting 1. */
  startupTimeoutMs: number;
  /** How long a stop may take (intake closed, in-flight work answered, counters and outbox flushed, connections closed) before the process exits non-zero. */
  shutdownTimeoutMs: number;
}

export interface ConsumerSettings {
  enabled: boolean;
  /** COURSE_STREAM; default `COURSE`, or `COURSE_<PREFIX>` when NATS_SUBJECT_PREFIX is set. */
  streamName: string;
  /** Create the stream when missing (development and tests only: in production CourseFactory owns it). */
  createStream: boolean;
  durableName: string;
  maxDeliver: number;
  ackWaitMs: number;
  maxAckPending: number;
  /** Messages handled at once by one instance (per-distribution order is kept by the mailbox). */
  concurrency: number;
  /**
   * Messages handled in one transaction (src/application/upstream-batch.ts): up to this many of what one pull has
   * buffered; 1 = one transaction per message.
   */
  batchSize: number;
  /** A consumed event larger than this is dead-lettered as too large (its own limit: events are not requests). */
  maxEventBytes: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long processed message ids are remembered: longer than any redelivery, replay or re-publish. */
  dedupRetentionMs: number;
  cleanupIntervalMs: number;
  cleanupBatch: number;
}

export interface EventStreamConfig {
  /** DISTRIBUTION_STREAM; default `DISTRIBUTION`, or `DISTRIBUTION_<PREFIX>` when NATS_SUBJECT_PREFIX is set. */
  name: string;
  replicas: number;
  /** 0 = no age limit. */
  maxAgeMs: number;
  /** -1 = no size limit. */
  maxBytes: number;
  /** What the stream does when a limit is reached: drop the oldest messages, or refuse new ones. */
  discard: 'old' | 'new';
  /** Must outlast the relay's retry horizon, so a re-published event is recognised as a duplicate. */
  duplicateWindowMs: number;
}

export interface RelayConfig {
  enabled: boolean;
  /** Outbox rows read per pass. */
  batchSize: number;
  /** PubAcks outstanding at once, across distributions (one at a time within a distribution). */
  maxInFlight: number;
  /** Fallback poll; commits wake the relay through LISTEN/NOTIFY. */
  pollIntervalMs: number;
  /** Cap of the backoff after a failed pass (starts at 100 ms, doubles). */
  maxBackoffMs: number;
  publishTimeoutMs: number;
  /** Attempts after which a row the stream refuses on its own (e.g. too large) is parked for an operator. */
  maxAttempts: number;
  /** Published rows older than this are deleted; 0 = at the next housekeeping. */
  retentionMs: number;
  /** How often a standby tries to become the active relay. */
  lockRetryMs: number;
  /** A relay lock holder idle (no heartbeat) for longer is ended by a standby, which takes over. */
  lockStaleMs: number;
  /** On stop, how long the active relay may publish what is committed. */
  flushTimeoutMs: number;
  /** How often backlog and age are logged (and published rows cleaned up). */
  statusIntervalMs: number;
  /** CloudEvents `ce-source` of every event (a URI-reference). */
  ceSource: string;
}

type Env = Record<string, string | undefined>;

/**
 * For a process entry (`npm start`, `npm run demo`): the configuration, or, when it is invalid, its message on
 * stderr (said plainly, before any logger exists: it names every bad key) and exit code 1.
 */
export function loadConfigOrExit(env: Env = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const text = (key: string, fallback: string): string => env[key]?.trim() || fallback;
  const optional = (key: string): string | undefined => env[key]?.trim() || undefined;
  const integer = (key: string, fallback: number, min: number, max: number): number => {
    const raw = env[key]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${key} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };

  const subjectPrefix = text('NATS_SUBJECT_PREFIX', '');
  if (subjectPrefix && !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subjectPrefix)) {
    problems.push(`NATS_SUBJECT_PREFIX must be dot-separated subject tokens without wildcards, got "${subjectPrefix}"`);
  }
  const replySubjectPrefixes = text('REPLY_SUBJECT_PREFIXES', '_INBOX.,_INBOX_')
    .split(',')
    .map((prefix) => prefix.trim())
    .filter((prefix) => prefix !== '');
  // A prefix is the start of an inbox subject: no wildcards, no spaces; an empty list would silence every reply.
  if (replySubjectPrefixes.length === 0 || replySubjectPrefixes.some((prefix) => !/^[A-Za-z0-9_$-][A-Za-z0-9_$.-]*$/.test(prefix))) {
    problems.push(`REPLY_SUBJECT_PREFIXES must be a comma-separated list of subject starts without wildcards, got "${env.REPLY_SUBJECT_PREFIXES ?? ''}"`);
  }
  const logLevel = text('LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`);
  }
  const logFormat = text('LOG_FORMAT', 'json');
  if (logFormat !== 'json' && logFormat !== 'pretty') problems.push(`LOG_FORMAT must be json or pretty, got "${logFormat}"`);
  const local = localServicesConfig(env, problems);

  const config: Config = {
    databaseUrl: text('DATABASE_URL', ''),
    local,
    db: {
      // The embedded database runs one statement at a time whatever the pool (README, "Embedded mode").
      poolMax: integer('DB_POOL_MAX', local.embeddedDatabase ? EMBEDDED_POOL_MAX : 10, 1, 200),
      acquireTimeoutMs: integer('DB_ACQUIRE_TIMEOUT_MS', 5000, 100, 120_000),
      statementTimeoutMs: integer('DB_STATEMENT_TIMEOUT_MS', 10_000, 100, 600_000),
    },
    nats: {
      url: text('NATS_URL', 'nats://127.0.0.1:4222'),
      user: optional('NATS_USER'),
      password: optional('NATS_PASSWORD'),
      inboxPrefix: text('NATS_INBOX_PREFIX', '_INBOX_course_distribution'),
      subjectPrefix,
      queueGroup: text('NATS_QUEUE_GROUP', 'course_distribution'),
      replySubjectPrefixes,
    },
    maxRequestBytes: integer('MAX_REQUEST_BYTES', 64 * 1024, 1024, 1024 * 1024),
    mailbox: { maxPending: integer('MAILBOX_MAX_PENDING', 10_000, 1, 1_000_000) },
    commandMaxAttempts: integer('COMMAND_MAX_ATTEMPTS', 4, 1, 20),
    counters: {
      flushIntervalMs: integer('COUNTER_FLUSH_INTERVAL_MS', 2, 0, 10_000),
      maxBatch: integer('COUNTER_MAX_BATCH', 1000, 1, 100_000),
      maxConcurrentFlushes: integer('COUNTER_MAX_CONCURRENT_FLUSHES', 2, 1, 64),
      maxQueued: integer('COUNTER_MAX_QUEUED', 10_000, 1, 1_000_000),
      lockTimeoutMs: integer('COUNTER_LOCK_TIMEOUT_MS', 200, 1, 60_000),
      queueTimeoutMs: integer('COUNTER_QUEUE_TIMEOUT_MS', 5000, 10, 600_000),
    },
    counterEventWindowMs: integer('COUNTER_EVENT_WINDOW_MS', 1000, 10, 3_600_000),
    readCache: {
      ttlMs: integer('READ_CACHE_TTL_MS', 1000, 0, 3_600_000),
      maxEntries: integer('READ_CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    },
    logLevel,
    healthCheckTimeoutMs: integer('HEALTH_CHECK_TIMEOUT_MS', 2000, 10, 60_000),
    logFormat: logFormat === 'pretty' ? 'pretty' : 'json',
    ...relayConfig(subjectPrefix, integer, text, problems),
    consumer: consumerConfig(local.natsServer !== undefined, subjectPrefix, integer, text, problems),
    retention: {
      deadLetterMs: integer('DEAD_LETTER_RETENTION_HOURS', 30 * 24, 1, 24 * 3650) * 3_600_000,
      idempotencyMs: integer('IDEMPOTENCY_RETENTION_HOURS', 7 * 24, 1, 24 * 3650) * 3_600_000,
    },
    lifecycle: {
      opsHttpPort: integer('OPS_HTTP_PORT', 0, 0, 65_535) || undefined,
      startupTimeoutMs: integer('STARTUP_TIMEOUT_MS', 60_000, 0, 3_600_000),
      shutdownTimeoutMs: integer('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    },
  };
  // The relay's flush is one step of the stop: it must leave time for draining NATS and closing the database.
  if (config.relay.enabled && config.relay.flushTimeoutMs >= config.lifecycle.shutdownTimeoutMs) {
    problems.push(`OUTBOX_FLUSH_TIMEOUT_MS (${config.relay.flushTimeoutMs}) must be below SHUTDOWN_TIMEOUT_MS (${config.lifecycle.shutdownTimeoutMs})`);
  }
  if (problems.length > 0) throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  return config;
}

/** The pool size with the embedded database (measured: README, "Embedded mode"). */
export const EMBEDDED_POOL_MAX = 4;

/** DATA_DIR, and what is started for development when DATABASE_URL / NATS_URL are unset (NODE_ENV decides if allowed). */
function localServicesConfig(env: Env, problems: string[]): LocalServicesConfig {
  const production = env.NODE_ENV?.trim() === 'production';
  const dataDirRaw = env.DATA_DIR?.trim() || '.data';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(env.DATA_DIR?.trim() ? process.cwd() : packageRoot(), dataDirRaw);
  const local: LocalServicesConfig = { dataDir };
  if (!env.DATABASE_URL?.trim()) {
    if (production) problems.push('DATABASE_URL must be set when NODE_ENV=production (without it the service would run on an embedded development database)');
    else local.embeddedDatabase = { dataDir: join(dataDir, 'pglite') };
  }
  if (!env.NATS_URL?.trim() && !production) local.natsServer = { bin: env.NATS_SERVER_BIN?.trim() || 'nats-server', storeDir: join(dataDir, 'nats') };
  return local;
}

/** The stream and relay keys, validated together: the duplicate window must outlast every retry horizon. */
function relayConfig(
  subjectPrefix: string,
  integer: (key: string, fallback: number, min: number, max: number) => number,
  text: (key: string, fallback: string) => string,
  problems: string[],
): Pick<Config, 'stream' | 'relay'> {
  const hour = 3_600_000;
  const defaultStream = subjectPrefix ? `DISTRIBUTION_${subjectPrefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}` : 'DISTRIBUTION';
  const name = text('DISTRIBUTION_STREAM', defaultStream);
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) problems.push(`DISTRIBUTION_STREAM must be letters, digits, _ and -, got "${name}"`);
  const discard = text('STREAM_DISCARD', 'old');
  if (discard !== 'old' && discard !== 'new') problems.push(`STREAM_DISCARD must be old or new, got "${discard}"`);
  const enabledRaw = text('RELAY_ENABLED', 'true').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(enabledRaw)) problems.push(`RELAY_ENABLED must be true or false, got "${enabledRaw}"`);
  const stream: EventStreamConfig = {
    name,
    replicas: integer('STREAM_REPLICAS', 1, 1, 5),
    maxAgeMs: integer('STREAM_MAX_AGE_HOURS', 24 * 7, 0, 24 * 3650) * hour,
    maxBytes: integer('STREAM_MAX_BYTES', -1, -1, Number.MAX_SAFE_INTEGER),
    discard: discard === 'new' ? 'new' : 'old',
    duplicateWindowMs: integer('STREAM_DUPLICATE_WINDOW_MS', 10 * 60_000, 1000, 7 * 24 * hour),
  };
  const lockRetryMs = integer('OUTBOX_LOCK_RETRY_MS', 5000, 10, 600_000);
  const relay: RelayConfig = {
    enabled: enabledRaw === 'true' || enabledRaw === '1',
    batchSize: integer('OUTBOX_BATCH_SIZE', 1000, 1, 10_000),
    maxInFlight: integer('OUTBOX_MAX_IN_FLIGHT', 256, 1, 10_000),
    pollIntervalMs: integer('OUTBOX_POLL_INTERVAL_MS', 1000, 10, 600_000),
    maxBackoffMs: integer('OUTBOX_MAX_BACKOFF_MS', 30_000, 10, 3_600_000),
    publishTimeoutMs: integer('OUTBOX_PUBLISH_TIMEOUT_MS', 5000, 100, 120_000),
    maxAttempts: integer('OUTBOX_MAX_ATTEMPTS', 10, 1, 1_000_000),
    retentionMs: integer('OUTBOX_RETENTION_HOURS', 24, 0, 24 * 365) * hour,
    lockRetryMs,
    lockStaleMs: integer('OUTBOX_LOCK_STALE_MS', 6 * lockRetryMs, 30, 3_600_000),
    flushTimeoutMs: integer('OUTBOX_FLUSH_TIMEOUT_MS', 5000, 0, 600_000),
    statusIntervalMs: integer('OUTBOX_STATUS_INTERVAL_MS', 60_000, 100, 3_600_000),
    ceSource: text('CE_SOURCE', 'course_distribution'),
  };
  // The holder heartbeats every lock retry and publishes only within staleMs - lockRetryMs of its last heartbeat.
  if (relay.lockStaleMs < 3 * relay.lockRetryMs) problems.push(`OUTBOX_LOCK_STALE_MS (${relay.lockStaleMs}) must be at least 3 x OUTBOX_LOCK_RETRY_MS (${relay.lockRetryMs})`);
  // A row published but not yet marked is published again at the latest after one backoff, one publish timeout
  // and (after a crash) one lock retry, or (after a freeze) the stale deadline: JetStream must still remember its
  // Nats-Msg-Id by then.
  const horizon = relay.maxBackoffMs + relay.publishTimeoutMs + relay.lockRetryMs + relay.lockStaleMs;
  if (stream.duplicateWindowMs <= horizon) {
    problems.push(
      `STREAM_DUPLICATE_WINDOW_MS (${stream.duplicateWindowMs}) must exceed OUTBOX_MAX_BACKOFF_MS + OUTBOX_PUBLISH_TIMEOUT_MS + OUTBOX_LOCK_RETRY_MS + OUTBOX_LOCK_STALE_MS (${horizon})`,
    );
  }
  if (stream.maxAgeMs > 0 && stream.duplicateWindowMs > stream.maxAgeMs) {
    problems.push('STREAM_DUPLICATE_WINDOW_MS must not exceed STREAM_MAX_AGE_HOURS');
  }
  return { stream, relay };
}

/** CourseFactory's stream and our durable consumer on it. */
function consumerConfig(
  /** NATS_URL is unset outside production: the COURSE stream is created by default (nobody else would, locally). */
  developmentNats: boolean,
  subjectPrefix: string,
  integer: (key: string, fallback: number, min: number, max: number) => number,
  text: (key: string, fallback: string) => string,
  problems: string[],
): ConsumerSettings {
  const flag = (key: string, fallback: boolean): boolean => {
    const raw = text(key, String(fallback)).toLowerCase();
    if (!['true', 'false', '1', '0'].includes(raw)) problems.push(`${key} must be true or false, got "${raw}"`);
    return raw === 'true' || raw === '1';
  };
  const defaultStream = subjectPrefix ? `COURSE_${subjectPrefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}` : 'COURSE';
  const settings: ConsumerSettings = {
    enabled: flag('CONSUMER_ENABLED', true),
    streamName: text('COURSE_STREAM', defaultStream),
    createStream: flag('COURSE_STREAM_CREATE', developmentNats),
    durableName: text('CONSUMER_DURABLE', 'distribution_consumer'),
    maxDeliver: integer('CONSUMER_MAX_DELIVER', 10, 2, 1000),
    ackWaitMs: integer('CONSUMER_ACK_WAIT_MS', 30_000, 1000, 3_600_000),
    maxAckPending: integer('CONSUMER_MAX_ACK_PENDING', 1000, 1, 100_000),
    concurrency: integer('CONSUMER_CONCURRENCY', 64, 1, 10_000),
    batchSize: integer('CONSUMER_BATCH_SIZE', 16, 1, 1000),
    maxEventBytes: integer('CONSUMER_MAX_EVENT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    retryBaseMs: integer('CONSUMER_RETRY_BASE_MS', 1000, 10, 600_000),
    retryMaxMs: integer('CONSUMER_RETRY_MAX_MS', 60_000, 10, 3_600_000),
    dedupRetentionMs: integer('DEDUP_RETENTION_HOURS', 24 * 7, 1, 24 * 3650) * 3_600_000,
    cleanupIntervalMs: integer('DEDUP_CLEANUP_INTERVAL_MS', 60_000, 100, 86_400_000),
    cleanupBatch: integer('DEDUP_CLEANUP_BATCH', 1000, 1, 100_000),
  };
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(settings.streamName)) problems.push(`COURSE_STREAM must be letters, digits, _ and -, got "${settings.streamName}"`);
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(settings.durableName)) problems.push(`CONSUMER_DURABLE must be letters, digits, _ and -, got "${settings.durableName}"`);
  return settings;
}
