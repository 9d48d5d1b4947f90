/** The latest generation per course (CourseFactory's course ids are global, not per tenant). */
import type { Sql } from './database.js';
import type { CourseStaging } from './course-staging.js';

/** What handling a completion needs to know about its course, and whether it is a regeneration. */
export interface CourseGenerationContext {
  /** An earlier generation was recorded and this one is later (a re-send, equal or older, is not). */
  regenerated: boolean;
  /** The tenant has a live root distribution (not a variant) of the course. */
  hasLiveRoot: boolean;
  /** The course's latest staging deployment, if any. */
  staging: CourseStaging | null;
}

/**
 * In one statement (one round trip): records `completedAt` as the course's latest generation unless an equal or
 * later one is recorded, and reads whether the tenant has a live root distribution of the course and the course's
 * latest deployment. The caller holds the course lock (the claim), so completions and deployments of one course are
 * decided one at a time and this statement sees every one committed before.
 */
export async function recordGenerationAndFindContext(db: Sql, tenantId: string, courseId: string, completedAt: string): Promise<CourseGenerationContext> {
  const [row] = await db.execute<{ regenerated: boolean; has_live_root: boolean; staging_url: string | null; deployed_at: string | Date | null }>(
    `with previous as (
       select completed_at from course_generation where course_id = ?
     ), recorded as (
       insert into course_generation (course_id, completed_at) values (?, ?)
       on conflict (course_id) do update set completed_at = excluded.completed_at, received_at = now()
        where course_generation.completed_at < excluded.completed_at
       returning 1
     )
     select exists (select 1 from previous) and exists (select 1 from recorded) as regenerated,
            exists (select 1 from distribution where tenant_id = ? and course_id = ? and derived_from is null and deleted_at is null) as has_live_root,
            s.staging_url, s.deployed_at
       from (select 1) as one left join course_staging s on s.course_id = ?`,
    [courseId, courseId, completedAt, tenantId, courseId, courseId],
  );
  const staging = row?.staging_url && row.deployed_at ? { stagingUrl: row.staging_url, deployedAt: new Date(row.deployed_at).toISOString() } : null;
  return { regenerated: row?.regenerated === true, hasLiveRoot: row?.has_live_root === true, staging };
}
