/**
 * CourseFactory's events in our terms: a finished course becomes a new private distribution (v1, slug from the
 * title, SEO and CTA defaults derived from the course); a staging deployment becomes the apply_staging command.
 */
import type { CourseDeployedStagingPayload, CourseGenerationCompletedPayload } from '../../generated/types.js';
import { defaultCta, defaultSeo } from './defaults.js';
import type { DistributionCommand, NewDistribution } from './distribution.js';

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
