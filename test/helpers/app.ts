/**
 * Boots the real service for a test file: its own database (migrated at start), its own subject prefix on the
 * shared NATS server (so files running in parallel never answer each other's requests), silent logs.
 * `call` sends a request the way any NATS client would and returns status, body and headers.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { pino } from 'pino';
import { createApp, type App, type AppOverrides } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { commandSubject } from '../../src/messaging/subjects.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { deleteStreamQuietly, natsNamespace, type NatsNamespace } from './nats.js';
import { resolveNats } from './services.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface Reply<T = unknown> {
  /** 200 for a success, else the Nats-Service-Error-Code header. */
  status: number;
  body: T;
  headers: Record<string, string>;
}

export interface TestApp {
  app: App;
  config: Config;
  db: TestDatabase;
  namespace: NatsNamespace;
  nc: NatsConnection;
  /** Sends `course_distribution.<tenant>.<operation>` (under the test's prefix) with a JSON or raw body. */
  call: <T = any>(tenant: string, operation: string, body: unknown, options?: { raw?: boolean; timeout?: number }) => Promise<Reply<T>>;
}

export async function startTestApp(
  t: Teardown,
  options: { env?: Record<string, string>; overrides?: AppOverrides; db?: TestDatabase; namespace?: NatsNamespace } = {},
): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase(t));
  const nats = await resolveNats();
  const namespace = options.namespace ?? natsNamespace();
  const config = loadConfig({
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    NATS_SUBJECT_PREFIX: namespace.id,
    LOG_LEVEL: 'silent',
    DB_POOL_MAX: '6',
    COURSE_STREAM_CREATE: 'true',
    ...options.env,
  });
  // The event stream belongs to the namespace: dropped after the app stopped (teardowns run last-in, first-out);
  // a test that passes its own namespace (several apps on one stream) drops the stream itself.
  if (!options.namespace && config.relay.enabled) t.teardown(() => deleteStreamQuietly(config.nats.url, config.stream.name));
  // The COURSE stream exists only because the test app created it (COURSE_STREAM_CREATE): every app drops it after
  // it stopped; deleting it twice is harmless.
  if (config.consumer.enabled && config.consumer.createStream) t.teardown(() => deleteStreamQuietly(config.nats.url, config.consumer.streamName));
  const app = await createApp(config, { log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), ...options.overrides });
  t.teardown(() => app.stop());
  await app.start();
  const nc = app.nc;
  const call = <T>(tenant: string, operation: string, body: unknown, callOptions: { raw?: boolean; timeout?: number } = {}) =>
    callService<T>(nc, namespace.id, tenant, operation, body, callOptions);
  return { app, config, db, namespace, nc, call };
}

/** Sends `course_distribution.<tenant>.<operation>` under `subjectPrefix` on `nc`, as any NATS client would. */
export async function callService<T = any>(
  nc: NatsConnection,
  subjectPrefix: string,
  tenant: string,
  operation: string,
  body: unknown,
  options: { raw?: boolean; timeout?: number } = {},
): Promise<Reply<T>> {
  const payload = options.raw ? (body as string | Uint8Array) : JSON.stringify(body);
  const msg = await nc.request(commandSubject(subjectPrefix, tenant, operation), payload, { timeout: options.timeout ?? 10_000 });
  const headers: Record<string, string> = {};
  for (const [k, v] of msg.headers ?? []) headers[k] = v.join(', ');
  const code = msg.headers?.get('Nats-Service-Error-Code');
  return { status: code ? Number(code) : 200, body: msg.json<T>(), headers };
}
