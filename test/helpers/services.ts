/**
 * Finds the real services a test talks to: DATABASE_URL / NATS_URL when set, else the local defaults,
 * else (only where a Docker engine exists) a testcontainers container. Without any of them it fails with
 * one sentence that says what to do.
 */
import { existsSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import pg from 'pg';

export const LOCAL_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/test';
export const LOCAL_NATS_URL = 'nats://127.0.0.1:4222';

export interface ServiceTarget {
  url: string;
  source: 'env' | 'local' | 'testcontainers';
  stop?: () => Promise<void>;
}

export function dockerAvailable(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

async function postgresReachable(url: string, timeoutMs = 1500): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Resolves `host:port` of a nats:// URL and checks that something accepts connections there. */
export function tcpReachable(url: string, timeoutMs = 1500): Promise<boolean> {
  const { hostname, port } = new URL(url.includes('://') ? url : `nats://${url}`);
  return new Promise((resolve) => {
    const socket = connectTcp({ host: hostname, port: Number(port || 4222) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

let postgresTarget: Promise<ServiceTarget> | undefined;
let natsTarget: Promise<ServiceTarget> | undefined;

/** The PostgreSQL server this test process uses (resolved once per process). */
export function resolvePostgres(): Promise<ServiceTarget> {
  postgresTarget ??= (async () => {
    const fromEnv = process.env.DATABASE_URL;
    if (fromEnv) {
      if (await postgresReachable(fromEnv)) return { url: fromEnv, source: 'env' };
      throw new Error(`DATABASE_URL=${fromEnv} is set but no PostgreSQL answers there.`);
    }
    if (await postgresReachable(LOCAL_DATABASE_URL)) return { url: LOCAL_DATABASE_URL, source: 'local' };
    if (!dockerAvailable()) {
      throw new Error(
        'No PostgreSQL for the tests: set DATABASE_URL, start PostgreSQL on 127.0.0.1:5432 (README, "Quick start"), or run where a Docker engine is available for testcontainers.',
      );
    }
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:16-alpine').start();
    return { url: container.getConnectionUri(), source: 'testcontainers', stop: async () => void (await container.stop()) };
  })();
  return postgresTarget;
}

/** The NATS server (with JetStream) this test process uses (resolved once per process). */
export function resolveNats(): Promise<ServiceTarget> {
  natsTarget ??= (async () => {
    const fromEnv = process.env.NATS_URL;
    if (fromEnv) {
      if (await tcpReachable(fromEnv)) return { url: fromEnv, source: 'env' };
      throw new Error(`NATS_URL=${fromEnv} is set but no NATS server answers there.`);
    }
    if (await tcpReachable(LOCAL_NATS_URL)) return { url: LOCAL_NATS_URL, source: 'local' };
    if (!dockerAvailable()) {
      throw new Error(
        'No NATS for the tests: set NATS_URL, start nats-server -js on 127.0.0.1:4222 (README, "Quick start"), or run where a Docker engine is available for testcontainers.',
      );
    }
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('nats:2.10')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    const url = `nats://${container.getHost()}:${container.getMappedPort(4222)}`;
    return { url, source: 'testcontainers', stop: async () => void (await container.stop()) };
  })();
  return natsTarget;
}
