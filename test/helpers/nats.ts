/**
 * NATS for tests: a connection to the shared server, names that are unique to one test file
 * (streams must not overlap in subjects, so each file gets its own stream names and subject root),
 * and a private nats-server started from a config file for tests about users and permissions.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { resolveNats, tcpReachable } from './services.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Connects to the tests' NATS server; the connection is drained when the test file ends. */
export async function connectTestNats(t: Teardown, options: ConnectionOptions = {}): Promise<NatsConnection> {
  const server = await resolveNats();
  const nc = await connect({ servers: server.url, name: 'course-distribution-test', ...options });
  t.teardown(() => nc.drain().catch(() => undefined));
  return nc;
}

/** Stream names and a subject root that belong to one test file only. */
export interface NatsNamespace {
  /** Unique token, e.g. `t1f3a9c2e`. */
  id: string;
  /** `DISTRIBUTION` -> `DISTRIBUTION_T1F3A9C2E`. */
  stream(base: string): string;
  /** `distribution.>` -> `t1f3a9c2e.distribution.>`. */
  subject(base: string): string;
}

export function natsNamespace(): NatsNamespace {
  const id = `t${randomBytes(4).toString('hex')}`;
  return {
    id,
    stream: (base) => `${base}_${id.toUpperCase()}`,
    subject: (base) => `${id}.${base}`,
  };
}

/** A free TCP port on 127.0.0.1 (the OS picks it; it is released before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface PrivateNatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store, e.g. after `stop()` in an outage test. */
  restart(): Promise<void>;
}

export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? 'nats-server';

/**
 * Starts `nats-server -c <file>` on `port` (default a free one). `config` is the body of a nats.conf without `listen` and
 * without a top-level `jetstream` block: both are written here (JetStream with a private temporary store,
 * unless `jetstream: false`). Accounts may still say `jetstream: enabled`.
 */
export async function startNatsServer(
  t: Teardown,
  options: { config?: string; jetstream?: boolean; env?: Record<string, string>; port?: number } = {},
): Promise<PrivateNatsServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'cd-nats-'));
  const storeDir = join(dir, 'store');
  const file = join(dir, 'nats.conf');
  const jetstream = options.jetstream === false ? '' : `jetstream { store_dir: "${storeDir}" }\n`;
  writeFileSync(file, `listen: 127.0.0.1:${port}\n${jetstream}${options.config ?? ''}\n`);

  let child: ReturnType<typeof spawn> | undefined;
  let output = '';
  const start = async () => {
    child = spawn(NATS_SERVER_BIN, ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<never>((_, reject) => child?.once('exit', (code) => reject(new Error(`nats-server -c ${file} exited with ${code}: ${output.slice(-2000)}`))));
    exited.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (!(await tcpReachable(`nats://127.0.0.1:${port}`, 200))) {
      if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port}: ${output.slice(-2000)}`);
      await Promise.race([new Promise((r) => setTimeout(r, 50)), exited]);
    }
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  t.teardown(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `nats://127.0.0.1:${port}`, port, storeDir, stop, restart: start };
}

/** Deletes a stream on the server at `url` if it exists (own short-lived connection; errors are ignored). */
export async function deleteStreamQuietly(url: string, name: string): Promise<void> {
  const nc = await connect({ servers: url, reconnect: false }).catch(() => undefined);
  if (!nc) return;
  try {
    const { jetstreamManager } = await import('@nats-io/jetstream');
    await (await jetstreamManager(nc)).streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}
