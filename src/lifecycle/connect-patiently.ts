/**
 * The start's connections: PostgreSQL first (then the ORM on it), then NATS, each waited for with growing delays
 * (startup-wait.ts) within one deadline, STARTUP_TIMEOUT_MS from the call. On failure nothing is left open.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { connectNats } from '../messaging/connection.js';
import { createOrm, pingDatabase } from '../persistence/orm.js';
import { waitUntilReachable } from './startup-wait.js';

export interface Connections {
  orm: MikroORM;
  nc: NatsConnection;
}

/** Longest wait for one connection attempt to PostgreSQL. */
const DATABASE_ATTEMPT_TIMEOUT_MS = 5000;

export async function connectPatiently(config: Config, log: Logger, signal?: AbortSignal): Promise<Connections> {
  const patience = { deadline: Date.now() + config.lifecycle.startupTimeoutMs, log, signal };
  await waitUntilReachable('PostgreSQL', () => pingDatabase(config.databaseUrl, DATABASE_ATTEMPT_TIMEOUT_MS), patience);
  const orm = await createOrm(config);
  try {
    // A refused connection fails at once; connectNats reconnects forever once the first connection stands.
    const nc = await waitUntilReachable('NATS', () => connectNats(config.nats, log), patience);
    return { orm, nc };
  } catch (err) {
    await orm.close(true);
    throw err;
  }
}
