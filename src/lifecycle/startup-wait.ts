/**
 * A patient start: the process waits for a dependency that is not there yet (PostgreSQL or NATS starting in the
 * same deployment, a rolling restart of the database) instead of exiting on the first refused connection.
 * Attempts are retried with a growing delay (250 ms doubling to 5 s), each wait logged, until the shared
 * deadline (STARTUP_TIMEOUT_MS from the start); then it throws DependencyUnreachableError with the last failure.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DependencyUnreachableError } from '../errors.js';

export interface StartupWaitOptions {
  /** Epoch milliseconds after which no attempt is started. */
  deadline: number;
  log: Logger;
  /** Aborted when the process is told to stop while it waits: the wait ends with the abort reason. */
  signal?: AbortSignal;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs `attempt` until it resolves (its value is returned), waiting between failures. An attempt is never cut
 * short: the deadline decides only whether another one starts.
 */
export async function waitUntilReachable<T>(dependency: string, attempt: () => Promise<T>, options: StartupWaitOptions): Promise<T> {
  const began = Date.now();
  let delay = options.firstDelayMs ?? 250;
  for (let attempts = 1; ; attempts++) {
    options.signal?.throwIfAborted();
    try {
      const value = await attempt();
      if (attempts > 1) options.log.info({ dependency, attempts, waited_ms: Date.now() - began }, `${dependency} reachable`);
      return value;
    } catch (err) {
      options.signal?.throwIfAborted();
      const remaining = options.deadline - Date.now();
      if (remaining <= 0) throw new DependencyUnreachableError(dependency, Date.now() - began, { cause: err });
      const wait = Math.min(delay, remaining);
      options.log.warn(
        { dependency, attempt: attempts, retry_in_ms: wait, waited_ms: Date.now() - began, reason: err instanceof Error ? err.message : String(err) },
        `waiting for ${dependency}`,
      );
      await sleep(wait, undefined, { signal: options.signal });
      delay = Math.min(delay * 2, options.maxDelayMs ?? 5000);
    }
  }
}
