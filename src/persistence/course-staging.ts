/** The latest staging deployment per course (CourseFactory's course ids are global, not per tenant). */
import type { Sql } from './database.js';

export interface CourseStaging {
  stagingUrl: string;
  deployedAt: string;
}

/** What creating a course's distribution needs to know, in one round trip: does a root exist, any deployment. */
export async function findCourseContext(db: Sql, tenantId: string, courseId: string): Promise<{ hasLiveRoot: boolean; staging: CourseStaging | null }> {
  const [row] = await db.execute<{ has_live_root: boolean; staging_url: string | null; deployed_at: string | Date | null }>(
    `select exists (select 1 from distribution where tenant_id = ? and course_id = ? and derived_from is null and deleted_at is null) as has_live_root,
            s.staging_url, s.deployed_at
       from (select 1) as one left join course_staging s on s.course_id = ?`,
    [tenantId, courseId, courseId],
  );
  const staging = row?.staging_url && row.deployed_at ? { stagingUrl: row.staging_url, deployedAt: new Date(row.deployed_at).toISOString() } : null;
  return { hasLiveRoot: row?.has_live_root === true, staging };
}

/** Records a deployment unless a later one is already recorded (events of one course arrive in any order). */
export async function recordCourseStaging(db: Sql, courseId: string, staging: CourseStaging): Promise<void> {
  await db.execute(
    `insert into course_staging (course_id, staging_url, deployed_at) values (?, ?, ?)
     on conflict (course_id) do update set staging_url = excluded.staging_url, deployed_at = excluded.deployed_at, received_at = now()
     where course_staging.deployed_at < excluded.deployed_at`,
    [courseId, staging.stagingUrl, staging.deployedAt],
  );
}
