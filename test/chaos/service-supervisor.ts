/**
 * The real service as separate processes (`node --import tsx src/main.ts`), each restarted when it exits, as an
 * orchestrator would. Faults reach a process only through signals: SIGKILL (a crash), SIGSTOP/SIGCONT (a frozen
 * process: a long GC pause, a stalled VM). Each instance's output is appended to its own log file in `logDir`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SupervisedInstance {
  name: string;
  /** Times the process was (re)started. */
  starts(): number;
  kill(): void;
  freeze(): void;
  thaw(): void;
  frozen(): boolean;
  /** Until the current process logged "serving requests" (or `timeoutMs` passed: throws). */
  waitServing(timeoutMs?: number): Promise<void>;
}

export interface Supervisor {
  instances: SupervisedInstance[];
  /** Stops restarting, thaws and SIGTERMs every process, waits for their exit. */
  stop(): Promise<void>;
}

const root = resolve(import.meta.dirname, '../..');

function supervise(name: string, env: Record<string, string>, log: WriteStream, restartDelayMs: number): SupervisedInstance & { stop(): Promise<void> } {
  let child: ChildProcess | undefined;
  let stopping = false;
  let isFrozen = false;
  let starts = 0;
  let serving = false;
  const launch = () => {
    starts += 1;
    serving = false;
    isFrozen = false;
    const started = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    log.write(`--- ${new Date().toISOString()} ${name} start #${starts} pid ${started.pid}\n`);
    started.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (text.includes('"serving requests"')) serving = true;
      log.write(text);
    });
    started.stderr?.on('data', (chunk: Buffer) => log.write(chunk));
    started.once('exit', (code, signal) => {
      log.write(`--- ${new Date().toISOString()} ${name} exited code=${code} signal=${signal}\n`);
      if (child === started) child = undefined;
      if (!stopping) setTimeout(() => !stopping && launch(), restartDelayMs);
    });
  };
  launch();
  return {
    name,
    starts: () => starts,
    kill: () => void child?.kill('SIGKILL'),
    freeze: () => {
      if (child && !isFrozen) {
        child.kill('SIGSTOP');
        isFrozen = true;
      }
    },
    thaw: () => {
      if (child && isFrozen) {
        child.kill('SIGCONT');
        isFrozen = false;
      }
    },
    frozen: () => isFrozen,
    async waitServing(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!serving || !child) {
        if (Date.now() > deadline) throw new Error(`${name} did not serve within ${timeoutMs} ms (see its log)`);
        await sleep(50);
      }
    },
    async stop() {
      stopping = true;
      const running = child;
      if (!running || running.exitCode !== null) return;
      if (isFrozen) running.kill('SIGCONT');
      const exited = new Promise((done) => running.once('exit', done));
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts one supervised process per environment (`instance-1`, `instance-2`, ...). */
export function startSupervisor(envs: Record<string, string>[], logDir: string, restartDelayMs = 300): Supervisor {
  const logs = envs.map((_, i) => createWriteStream(join(logDir, `instance-${i + 1}.log`), { flags: 'a' }));
  const running = envs.map((env, i) => supervise(`instance-${i + 1}`, env, logs[i]!, restartDelayMs));
  return {
    instances: running,
    async stop() {
      await Promise.all(running.map((instance) => instance.stop()));
      await Promise.all(logs.map((log) => new Promise((done) => log.end(done))));
    },
  };
}
