/**
 * Composition root: createApp(config) wires config -> database -> NATS -> use cases -> endpoints and returns
 * { start, stop, deps }. Tests boot the real app through it, over a migrated database.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { NatsConnection } from '@nats-io/nats-core';
import { monotonicFactory } from 'ulid';
import type { Config } from './config.js';
import { createContractValidator } from './contracts/validator.js';
import { createCounter, type Counter } from './application/counters.js';
import type { IdPrefix, ServiceDeps } from './application/deps.js';
import { createMailbox } from './application/mailbox.js';
import { createOperations } from './application/operations.js';
import { createSlugReadCache } from './application/slug-read-cache.js';
import { createLogger, type Logger } from './logger.js';
import { connectNats } from './messaging/connection.js';
import { startCommandService, type CommandService } from './messaging/command-service.js';
import { createOrm, migrate } from './persistence/orm.js';
import { PACKAGE_VERSION } from './version.js';

export interface App {
  start(): Promise<void>;
  /** Stops intake, drains in-flight work, flushes counters, closes NATS and the database. Safe to call twice. */
  stop(): Promise<void>;
  readonly deps: ServiceDeps;
  readonly nc: NatsConnection;
}

export interface AppOverrides {
  log?: Logger;
  now?: () => Date;
}

/** Monotonic ULIDs: sortable by creation time, and cheap (within one millisecond they count up instead of drawing random bytes). */
const ulid = monotonicFactory();

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid()}`;
}

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const log = overrides.log ?? createLogger(config.logLevel);
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

  return {
    deps,
    nc,
    async start() {
      const applied = await migrate(orm, config.databaseUrl);
      log.info({ database: redact(config.databaseUrl), migrations_applied: applied }, 'database ready');
      commands = await startCommandService({
        nc,
        log,
        validator: deps.validator,
        operations: createOperations(deps, counters, createSlugReadCache(config.readCache)),
        newId,
        version: PACKAGE_VERSION,
        subjectPrefix: config.nats.subjectPrefix,
        queueGroup: config.nats.queueGroup,
      });
      log.info({ nats: redact(config.nats.url), service_name: commands.service.info().name, instance_id: commands.service.info().id, subject_prefix: config.nats.subjectPrefix }, 'serving requests');
    },
    stop() {
      stopped ??= (async () => {
        await commands?.stop().catch((err: unknown) => log.warn({ err }, 'stopping the service endpoints failed'));
        await deps.mailbox.stop();
        await Promise.all([counters.views.stop(), counters.clicks.stop()]);
        await nc.drain().catch(() => undefined);
        await orm.close(true);
        log.info('stopped');
      })();
      return stopped;
    },
  };
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'unparseable DATABASE_URL';
  }
}
