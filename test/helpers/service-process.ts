/**
 * The real service as a child process (`node --import tsx src/main.ts`, what `npm run dev` runs), for what only a
 * process has: signals, exit codes, the start's patience. Its JSON log lines are kept and can be waited for. The
 * child gets a clean environment (PATH, HOME and the given keys only), so the test runner's settings do not leak
 * into it; it is killed when the test file ends if it still runs.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { waitFor } from './event-stream.js';
import { deleteStreamQuietly } from './nats.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface ServiceProcess {
  readonly pid: number;
  /** Every JSON line logged so far (other output is kept in `output()`). */
  lines(): Record<string, any>[];
  /** Everything written to stdout and stderr, for failure messages. */
  output(): string;
  /** The first line whose `msg` matches (waits for it); throws with the output when the process exits first. */
  waitForLog(msg: string | RegExp, timeoutMs?: number): Promise<Record<string, any>>;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

const root = resolve(import.meta.dirname, '../..');

export function startServiceProcess(t: Teardown, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const lines: Record<string, any>[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    partial += chunk.toString();
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      try {
        lines.push(JSON.parse(line) as Record<string, any>);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (exitCode) => resolveExit((code = exitCode))));
  t.teardown(async () => {
    if (code !== undefined) return;
    child.kill('SIGKILL');
    await exited;
  });
  const matches = (msg: string | RegExp, line: Record<string, any>) => (typeof msg === 'string' ? line.msg === msg : msg.test(String(line.msg)));

  return {
    pid: child.pid ?? 0,
    lines: () => [...lines],
    output: () => output,
    exited,
    kill: (signal) => void child.kill(signal),
    async waitForLog(msg, timeoutMs = 20_000) {
      try {
        return await waitFor(
          `the log line "${String(msg)}"`,
          () => {
            if (code !== undefined) throw new Error(`the service exited with ${code}`);
            return lines.find((line) => matches(msg, line));
          },
          timeoutMs,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}; output:\n${output.slice(-3000)}`);
      }
    },
  };
}

/**
 * The environment of a service process on the test's database and subject prefix, with info logs and the COURSE
 * stream created by the service; both streams are deleted when the test file ends.
 */
export function serviceEnv(t: Teardown, base: { databaseUrl: string; natsUrl: string; subjectPrefix: string }, extra: Record<string, string> = {}): Record<string, string> {
  const env = {
    DATABASE_URL: base.databaseUrl,
    NATS_URL: base.natsUrl,
    NATS_SUBJECT_PREFIX: base.subjectPrefix,
    COURSE_STREAM_CREATE: 'true',
    LOG_LEVEL: 'info',
    DB_POOL_MAX: '6',
    ...extra,
  };
  const config = loadConfig(env);
  t.teardown(async () => {
    await deleteStreamQuietly(base.natsUrl, config.stream.name);
    await deleteStreamQuietly(base.natsUrl, config.consumer.streamName);
  });
  return env;
}
