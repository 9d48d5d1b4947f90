import type { EntityManager } from '@mikro-orm/postgresql';
import type { Creation } from '../domain/distribution.js';
import { slugCandidate } from '../domain/slug.js';
import { ServiceFailure } from '../errors.js';
import { findTakenSlugs, insertDistribution } from '../persistence/distribution-repository.js';
import type { OutboxBatch } from '../persistence/outbox.js';

/**
 * Attempts at a generated slug within one transaction. Every failed attempt means another transaction committed
 * that slug meanwhile, so under any realistic contention one of these succeeds.
 */
const GENERATED_SLUG_ATTEMPTS = 100;

/**
 * Inserts a new distribution under the slug it is entitled to, with its events (`outbox`), in the caller's
 * transaction, and returns it.
 * An explicitly requested slug must be free among the tenant's live distributions, else 409 SLUG_TAKEN.
 * A generated one is `base` when free, else the first free of base-2, base-3, ...; a slug claimed concurrently
 * by another transaction just means the next candidate.
 */
export async function insertWithSlug(
  em: EntityManager,
  tenantId: string,
  slugs: { requested?: string; generatedBase: string },
  build: (slug: string) => Creation,
  outbox: (creation: Creation) => OutboxBatch,
): Promise<Creation> {
  const insert = async (creation: Creation) => insertDistribution(em, creation.state, outbox(creation));
  if (slugs.requested !== undefined) {
    const creation = build(slugs.requested);
    if (await insert(creation)) return creation;
    throw new ServiceFailure('SLUG_TAKEN', `slug "${slugs.requested}" is already taken in this tenant`, { slug: slugs.requested });
  }
  let candidate = slugs.generatedBase;
  for (let attempt = 1; attempt <= GENERATED_SLUG_ATTEMPTS; attempt++) {
    const creation = build(candidate);
    if (await insert(creation)) return creation;
    const taken = await findTakenSlugs(em, tenantId, slugs.generatedBase);
    for (let n = 1; taken.has(candidate); n++) candidate = slugCandidate(slugs.generatedBase, n);
  }
  throw new ServiceFailure('VERSION_CONFLICT', `could not claim a free slug for "${slugs.generatedBase}" under concurrent creates; retry`);
}
