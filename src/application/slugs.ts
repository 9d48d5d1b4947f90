import type { EntityManager } from '@mikro-orm/postgresql';
import { slugCandidate } from '../domain/slug.js';
import { ServiceFailure } from '../errors.js';
import { findLiveBySlug, findTakenSlugs } from '../persistence/distribution-repository.js';

/**
 * The slug a new distribution gets. An explicitly requested slug must be free (else 409 SLUG_TAKEN); a generated
 * one takes the first free of base, base-2, base-3, ... A concurrent claim of the same slug still fails on the
 * unique index at commit; run-command retries generated slugs and answers 409 for requested ones.
 */
export async function claimSlug(
  em: EntityManager,
  tenantId: string,
  request: { requested?: string; generatedBase: string },
): Promise<{ slug: string; generated: boolean }> {
  if (request.requested !== undefined) {
    if (await findLiveBySlug(em, tenantId, request.requested)) {
      throw new ServiceFailure('SLUG_TAKEN', `slug "${request.requested}" is already taken in this tenant`, { slug: request.requested });
    }
    return { slug: request.requested, generated: false };
  }
  const taken = await findTakenSlugs(em, tenantId, request.generatedBase);
  for (let attempt = 1; ; attempt++) {
    const slug = slugCandidate(request.generatedBase, attempt);
    if (!taken.has(slug)) return { slug, generated: true };
  }
}
