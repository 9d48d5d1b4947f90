/**
 * Runs a command the actor way: queued in the distribution's mailbox (one at a time per distribution in this
 * process), inside one database transaction (load -> decide -> write row + outbox -> commit). Across instances the
 * row version protects: a concurrent change makes the attempt fail, and it is retried from a fresh read a few
 * times before the caller gets 409. The caller replies only after this resolves, i.e. after the commit.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceFailure } from '../errors.js';
import { isConcurrencyConflict, isDatabaseUnavailable, violatedUniqueConstraint } from '../persistence/db-errors.js';
import { ConcurrentChangeError } from '../persistence/distribution-repository.js';
import { InvalidEventError } from '../persistence/outbox.js';
import type { ServiceDeps } from './deps.js';

export const SLUG_CONSTRAINT = 'distribution_tenant_slug_live_uq';

export async function runCommand<T>(
  deps: ServiceDeps,
  key: string,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  return deps.mailbox.run(key, () => withRetries(deps, work));
}

/** One transaction, retried from scratch on a concurrent change; failures mapped to the contract's codes. */
export async function withRetries<T>(deps: ServiceDeps, work: (em: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.orm.em.fork().transactional(work);
    } catch (err) {
      if (attempt < deps.commandMaxAttempts && isRetryable(err)) {
        // Jittered, growing pause so two instances that collided do not collide again in lockstep.
        await sleep(Math.random() * 5 * 2 ** attempt);
        continue;
      }
      throw toServiceFailure(err);
    }
  }
}

function isRetryable(err: unknown): boolean {
  return err instanceof ConcurrentChangeError || isConcurrencyConflict(err);
}

/** Maps what a transaction threw to the contract's error codes; unknown errors stay as they are (500). */
export function toServiceFailure(err: unknown): unknown {
  if (err instanceof ServiceFailure) return err;
  if (err instanceof ConcurrentChangeError || isConcurrencyConflict(err)) {
    return new ServiceFailure('VERSION_CONFLICT', 'the distribution kept changing concurrently; read it again and retry', undefined, { cause: err });
  }
  if (violatedUniqueConstraint(err) === SLUG_CONSTRAINT) {
    return new ServiceFailure('SLUG_TAKEN', 'the slug is already taken in this tenant', undefined, { cause: err });
  }
  if (isDatabaseUnavailable(err)) {
    return new ServiceFailure('UNAVAILABLE', 'the database is unavailable; retry later', undefined, { cause: err });
  }
  if (err instanceof InvalidEventError) return new ServiceFailure('INTERNAL', 'internal error', undefined, { cause: err });
  return err;
}
