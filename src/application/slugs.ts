/**
 * Which slug a new distribution gets, and its insertion under that slug. Whether a slug is free needs the database,
 * and only the insert itself can tell for sure (another transaction may claim it meanwhile), so a new distribution
 * is decided for a candidate slug, inserted, and decided again for the next candidate when the slug was taken.
 */
import type { Sql } from '../persistence/database.js';
import type { Creation } from '../domain/distribution.js';
import { slugCandidate } from '../domain/slug.js';
import { ServiceFailure } from '../errors.js';
import { findTakenSlugs, insertDistribution } from '../persistence/distribution-repository.js';
import type { ServiceDeps } from './deps.js';
import { outboxBatchOf, type EventLineage } from './record-events.js';

/**
 * Attempts at a generated slug within one transaction. Every failed attempt means another transaction committed
 * that slug meanwhile, so under any realistic contention one of these succeeds.
 */
const GENERATED_SLUG_ATTEMPTS = 100;

/** The slug a new distribution asks for: an explicit one, else one generated from `generatedBase`. */
export interface SlugRequest {
  requested?: string;
  generatedBase: string;
}

/**
 * Inserts a new distribution under the slug it is entitled to, with its events, in the transaction `tx`, and
 * returns it: decide (`decideFor` the candidate slug) -> write the row and append its events (one statement) ->
 * on a taken slug, the next candidate (nextSlug).
 *
 * @param decideFor - The domain's decision for a slug; called again for every candidate (each gets new event ids).
 */
export async function insertWithSlug(deps: ServiceDeps, tx: Sql, lineage: EventLineage, slugs: SlugRequest, decideFor: (slug: string) => Creation): Promise<Creation> {
  let slug = slugs.requested ?? slugs.generatedBase;
  for (let attempt = 1; ; attempt++) {
    const creation = decideFor(slug);
    if (await insertDistribution(tx, creation.state, outboxBatchOf(deps, lineage, creation.events))) return creation;
    slug = await nextSlug(tx, lineage.tenantId, slugs, slug, attempt);
  }
}

/**
 * The candidate after `taken`: an explicitly requested slug has none (409 SLUG_TAKEN). A generated one is `base`
 * when free, else the first free of base-2, base-3, ... among the tenant's live distributions; after
 * GENERATED_SLUG_ATTEMPTS the create gives up with 409 VERSION_CONFLICT (retry).
 */
async function nextSlug(tx: Sql, tenantId: string, slugs: SlugRequest, taken: string, attempt: number): Promise<string> {
  if (slugs.requested !== undefined) {
    throw new ServiceFailure('SLUG_TAKEN', `slug "${slugs.requested}" is already taken in this tenant`, { slug: slugs.requested });
  }
  if (attempt >= GENERATED_SLUG_ATTEMPTS) {
    throw new ServiceFailure('VERSION_CONFLICT', `could not claim a free slug for "${slugs.generatedBase}" under concurrent creates; retry`);
  }
  const takenNow = await findTakenSlugs(tx, tenantId, slugs.generatedBase);
  let candidate = taken;
  for (let n = 1; takenNow.has(candidate); n++) candidate = slugCandidate(slugs.generatedBase, n);
  return candidate;
}
