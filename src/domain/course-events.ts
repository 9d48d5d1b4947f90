/**
 * CourseFactory's events in our terms: a finished course becomes a new private distribution (v1, slug from the
 * title, SEO and CTA defaults derived from the course); a staging deployment becomes the apply_staging command.
 */
import type { CourseDeployedStagingPayload, CourseGenerationCompletedPayload } from '../../generated/types.js';
import { defaultCta, defaultSeo } from './defaults.js';
import { decide, evolve, type Creation, type DistributionCommand, type NewDistribution, type VariantDecision } from './distribution.js';

export function distributionForCourse(course: CourseGenerationCompletedPayload, ids: { id: string; slug: string }): NewDistribution {
  return {
    id: ids.id,
    tenant_id: course.tenant_id,
    course_id: course.course_id,
    slug: ids.slug,
    language: course.language,
    title: course.title,
    description: course.description,
    target_group: course.target_audiences,
    seo: defaultSeo({ title: course.title, description: course.description, target_group: course.target_audiences, language: course.language }),
    cta: defaultCta(course.language),
    derived_from: null,
  };
}

export function stagingCommand(deployment: Pick<CourseDeployedStagingPayload, 'staging_url' | 'deployed_at'>): DistributionCommand {
  return { type: 'apply_staging', staging_url: deployment.staging_url, deployed_at: deployment.deployed_at };
}

/** The latest staging deployment recorded for a course. */
export interface CourseDeployment {
  stagingUrl: string;
  deployedAt: string;
}

/**
 * A new distribution of a course that was deployed to staging before it existed: it starts with that deployment.
 * Its distribution.created is followed by a distribution.updated naming staging_url and staging_deployed_at (the
 * created event's payload is the catalogue's and has no staging fields), so a consumer that applies both has the
 * distribution as it is (for a variant it comes after distribution.micro_niche_created). Without a deployment the
 * creation is returned as it is.
 */
export function withDeployment(creation: Creation, deployment: CourseDeployment | null, now: string): VariantDecision {
  if (!deployment) return { ok: true, ...creation };
  const applied = decide(creation.state, stagingCommand({ staging_url: deployment.stagingUrl, deployed_at: deployment.deployedAt }), now);
  if (!applied.ok) return applied;
  return { ok: true, state: applied.events.reduce(evolve, creation.state), events: [...creation.events, ...applied.events] };
}
