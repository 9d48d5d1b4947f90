/**
 * Runs a command the actor way: queued in the distribution's mailbox (one at a time per distribution in this
 * process), inside one database transaction (load -> decide -> write row + outbox -> commit). Across instances the
 * row version protects: a concurrent change makes the attempt fail, and it is retried from a fresh read a few
 * times before the caller gets 409. The caller replies only after this resolves, i.e. after the commit; failures are
 * judged by the failure policy (failure-policy.ts) where they are answered.
 */
import type { Sql } from '../persistence/database.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { classify } from '../failure-policy.js';
import type { ServiceDeps } from './deps.js';

export async function runCommand<T>(deps: ServiceDeps, key: string, work: (tx: Sql) => Promise<T>): Promise<T> {
  return deps.mailbox.run(key, () => withRetries(deps, work));
}

/**
 * One transaction, run again from a fresh read while the failure policy says a concurrent transaction got in the
 * way (`retry-now`), up to `commandMaxAttempts` times. What it finally throws is left for the caller to judge.
 */
export async function withRetries<T>(deps: ServiceDeps, work: (tx: Sql) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.db.transaction(work);
    } catch (err) {
      if (attempt >= deps.commandMaxAttempts || classify(err).disposition !== 'retry-now') throw err;
      // Jittered, growing pause so two instances that collided do not collide again in lockstep.
      await sleep(Math.random() * 5 * 2 ** attempt);
    }
  }
}
