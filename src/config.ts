/**
 * The only reader of process.env. Every key is documented in README.md ("Configuration"); `loadConfig` parses
 * and validates them once and fails with one message naming every bad key.
 */
export interface Config {
  databaseUrl: string;
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
  };
  /** Largest request body accepted, in bytes (larger: 413). */
  maxRequestBytes: number;
  mailbox: { maxPending: number };
  /** Attempts of a command that meets a concurrent change (row version) before it answers 409. */
  commandMaxAttempts: number;
  counters: { flushIntervalMs: number; maxBatch: number; maxConcurrentFlushes: number };
  /** get_by_slug cache: how long another instance's change may take to show here; 0 = no caching. */
  readCache: { ttlMs: number; maxEntries: number };
  logLevel: string;
}

type Env = Record<string, string | undefined>;

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
  const logLevel = text('LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`);
  }

  const config: Config = {
    databaseUrl: text('DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/postgres'),
    db: {
      poolMax: integer('DB_POOL_MAX', 10, 1, 200),
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
    },
    maxRequestBytes: integer('MAX_REQUEST_BYTES', 64 * 1024, 1024, 1024 * 1024),
    mailbox: { maxPending: integer('MAILBOX_MAX_PENDING', 10_000, 1, 1_000_000) },
    commandMaxAttempts: integer('COMMAND_MAX_ATTEMPTS', 4, 1, 20),
    counters: {
      flushIntervalMs: integer('COUNTER_FLUSH_INTERVAL_MS', 5, 0, 10_000),
      maxBatch: integer('COUNTER_MAX_BATCH', 1000, 1, 100_000),
      maxConcurrentFlushes: integer('COUNTER_MAX_CONCURRENT_FLUSHES', 4, 1, 64),
    },
    readCache: {
      ttlMs: integer('READ_CACHE_TTL_MS', 1000, 0, 3_600_000),
      maxEntries: integer('READ_CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    },
    logLevel,
  };
  if (problems.length > 0) throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  return config;
}
