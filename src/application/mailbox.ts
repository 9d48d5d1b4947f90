/**
 * The actor mailbox: work for one key (a distribution id) runs one item at a time, in arrival order; work for
 * different keys runs concurrently. The number of items waiting or running is bounded: past `maxPending`,
 * `run` refuses at once with OVERLOADED (503, safe to retry) instead of queueing without limit.
 * `stop()` refuses new work (SHUTTING_DOWN) and resolves when everything accepted has finished.
 */
import { ServiceFailure } from '../errors.js';

export interface MailboxOptions {
  maxPending: number;
}

export interface Mailbox {
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
  /**
   * Runs `work` holding the turn of every key at once (a consumed event that touches several distributions).
   * Turns are taken in sorted key order, so two multi-key items can never wait for each other in a cycle.
   */
  runAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T>;
  /**
   * Runs `work` once every item queued before it on any of `keys` has finished: it takes its place in all their
   * queues at once, at the call (a batch of consumed events keeps its place in the order of every course in it).
   * One item towards `maxPending`. `work` may take further turns with `run`/`runAll` on keys not in `keys`, as long
   * as nothing that holds those keys waits for one of `keys` (the batched consumer takes course keys here, then
   * distribution keys; commands only ever hold distribution keys).
   */
  runTogether<T>(keys: readonly string[], work: () => Promise<T>): Promise<T>;
  /** Items accepted and not yet finished. */
  readonly pending: number;
  stop(): Promise<void>;
}

export function createMailbox(options: MailboxOptions): Mailbox {
  /** The last item of each key's queue; a new item starts when it settles. */
  const tails = new Map<string, Promise<void>>();
  let pending = 0;
  let stopping = false;
  let idle: (() => void) | undefined;
  /** The one promise every stop() call gets: resolved when the last accepted item settles. */
  let drained: Promise<void> | undefined;

  function run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return runTogether([key], work);
  }

  function runTogether<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    if (stopping) return Promise.reject(new ServiceFailure('SHUTTING_DOWN', 'the service is shutting down; retry on another instance'));
    if (pending >= options.maxPending) {
      return Promise.reject(new ServiceFailure('OVERLOADED', `more than ${options.maxPending} requests are in progress; retry shortly`));
    }
    pending++;
    const unique = [...new Set(keys)];
    const previous = unique.length === 1 ? (tails.get(unique[0]!) ?? Promise.resolve()) : Promise.all(unique.map((key) => tails.get(key) ?? Promise.resolve()));
    const result = previous.then(work).finally(() => {
      for (const key of unique) if (tails.get(key) === tail) tails.delete(key);
      pending--;
      if (pending === 0) idle?.();
    });
    const tail: Promise<void> = result.then(
      () => undefined,
      () => undefined,
    );
    for (const key of unique) tails.set(key, tail);
    return result;
  }

  function runAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const nest = (index: number): Promise<T> => (index === sorted.length ? work() : run(sorted[index]!, () => nest(index + 1)));
    return nest(0);
  }

  return {
    run,
    runAll,
    runTogether,
    get pending() {
      return pending;
    },
    stop() {
      stopping = true;
      drained ??= pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
      return drained;
    },
  };
}
