/** Maps between the distribution table's rows and the domain state (ISO strings, snake_case fields). */
import type { DistributionState } from '../domain/distribution.js';
import type { DistributionRow } from './entities/distribution.entity.js';

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
const date = (s: string | null): Date | null => (s ? new Date(s) : null);

export interface LoadedDistribution {
  state: DistributionState;
  rowVersion: number;
}

export function fromRow(row: DistributionRow): LoadedDistribution {
  return {
    rowVersion: row.rowVersion,
    state: {
      id: row.id,
      tenant_id: row.tenantId,
      course_id: row.courseId,
      slug: row.slug,
      language: row.language,
      title: row.title,
      description: row.description,
      target_group: row.targetGroup,
      visibility: row.visibility,
      version: row.version,
      derived_from: row.derivedFrom ?? null,
      seo: row.seo,
      cta: row.cta,
      staging_url: row.stagingUrl ?? null,
      staging_deployed_at: iso(row.stagingDeployedAt),
      view_count: Number(row.viewCount),
      enrollment_count: Number(row.enrollmentCount),
      published_at: iso(row.publishedAt),
      created_at: iso(row.createdAt)!,
      updated_at: iso(row.updatedAt)!,
      deleted_at: iso(row.deletedAt),
    },
  };
}

/** The columns a command may change (counters are only ever incremented in SQL, see counters.ts). */
export function toRowChanges(state: DistributionState) {
  return {
    slug: state.slug,
    language: state.language,
    title: state.title,
    description: state.description,
    targetGroup: state.target_group,
    visibility: state.visibility,
    version: state.version,
    seo: state.seo,
    cta: state.cta,
    stagingUrl: state.staging_url,
    stagingDeployedAt: date(state.staging_deployed_at),
    publishedAt: date(state.published_at),
    updatedAt: new Date(state.updated_at),
    deletedAt: date(state.deleted_at),
  };
}

export function toNewRow(state: DistributionState) {
  return {
    ...toRowChanges(state),
    id: state.id,
    tenantId: state.tenant_id,
    courseId: state.course_id,
    derivedFrom: state.derived_from,
    viewCount: state.view_count,
    enrollmentCount: state.enrollment_count,
    rowVersion: 1,
    createdAt: new Date(state.created_at),
  };
}
