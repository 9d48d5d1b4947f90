/**
 * NATS for development when NATS_URL is unset: if nothing answers on the default address, a `nats-server` found on
 * this machine is started there as a child process, with JetStream in DATA_DIR/nats. No NATS server runs inside
 * Node, and nothing is downloaded: without a binary the start stops with one paragraph saying what to do.
 *
 * Contract
 * - Something already answering on the address (a nats-server of the machine, of `docker compose up nats`, or one
 *   this service started before and left behind) is used as it is: nothing is started.
 * - The child is ours: `stop()` ends it (SIGTERM, then SIGKILL after 5 s), and it is signalled when this process
 *   exits by any other way. A child left running by a killed (SIGKILL) service is simply reused by the next start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';

export interface DevNatsServer {
  readonly url: string;
  readonly pid: number;
  readonly bin: string;
  /** Ends the child; safe to call twice. */
  stop(): Promise<void>;
}

/** No NATS answers and none can be started: the message is the paragraph for the newcomer. */
export class NatsUnavailableError extends Error {
  override name = 'NatsUnavailableError';
}

/** Debian and Ubuntu put nats-server in /usr/sbin, which is not on an ordinary user's PATH. */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin'];

/** `bin` as given when it names a path, else the first executable of that name on the PATH (or in EXTRA_DIRS). */
export function findExecutable(bin: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = bin.includes('/') ? [bin] : [...path.split(delimiter).filter(Boolean), ...EXTRA_DIRS].map((dir) => join(dir, bin));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** True when a TCP connection to host:port opens within `timeoutMs`. */
export function tcpAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface DevNatsOptions {
  /** The default address, `nats://127.0.0.1:4222`. */
  url: string;
  /** NATS_SERVER_BIN: a path, or a name looked up on the PATH. */
  bin: string;
  storeDir: string;
  log: Logger;
  /** Test seam: the PATH to search (default process.env.PATH). */
  path?: string;
}

/** Starts a nats-server on `url` unless something answers there already (then undefined). */
export async function ensureDevNatsServer(options: DevNatsOptions): Promise<DevNatsServer | undefined> {
  const { hostname, port: portText } = new URL(options.url);
  const port = Number(portText || 4222);
  if (await tcpAnswers(hostname, port)) return undefined;
  const bin = findExecutable(options.bin, options.path);
  if (!bin) {
    throw new NatsUnavailableError(
      `NATS_URL is unset and nothing answers on ${options.url}, so the service tried to start a nats-server there, but found no "${options.bin}" ` +
        `(looked on the PATH and in ${EXTRA_DIRS.join(', ')}; NATS_SERVER_BIN names another). Get NATS one of these ways: ` +
        `install it (Debian/Ubuntu: sudo apt-get install nats-server), run it in a container (docker compose up nats), ` +
        `or point the service at a running server with NATS_URL=nats://host:4222.`,
    );
  }
  mkdirSync(options.storeDir, { recursive: true });
  const child = spawn(bin, ['-a', hostname, '-p', String(port), '-js', '-sd', options.storeDir, '-n', 'course-distribution-dev'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (await tcpAnswers(hostname, port, 200)) break;
    const ended = await Promise.race([exited.then((code) => `exited with ${code}`), spawnFailed.then((err) => err.message), delay(100)]);
    if (typeof ended === 'string' || Date.now() > deadline) {
      process.off('exit', killOnExit);
      child.kill('SIGKILL');
      throw new NatsUnavailableError(
        `NATS_URL is unset and nothing answered on ${options.url}; starting ${bin} there failed (${ended ?? 'not listening after 10 s'}). Its output: ${output.trim() || '(none)'}. ` +
          `Free the port, or set NATS_URL to a running server.`,
      );
    }
  }
  options.log.info(
    { nats: options.url, pid: child.pid, bin, store_dir: options.storeDir },
    'NATS_URL is unset and nothing answered on the default address: started a development nats-server (JetStream), stopped with the service',
  );
  let stopped: Promise<void> | undefined;
  return {
    url: options.url,
    pid: child.pid ?? 0,
    bin,
    stop() {
      stopped ??= stopChild(child, exited).finally(() => process.off('exit', killOnExit));
      return stopped;
    },
  };
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
