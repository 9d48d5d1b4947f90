/** The latest staging deployment per course (CourseFactory's course ids are global, not per tenant). */
import type { Sql } from './database.js';

export interface CourseStaging {
  stagingUrl: string;
  deployedAt: string;
}

/** What creating a course's distribution needs to know: does a live root exist in the tenant, any deployment. */
export interface CourseContext {
  hasLiveRoot: boolean;
  staging: CourseStaging | null;
}

interface CourseContextRow {
  has_live_root: boolean;
  staging_url: string | null;
  deployed_at: string | Date | null;
}

function toCourseContext(row: CourseContextRow | undefined): CourseContext {
  const staging = row?.staging_url && row.deployed_at ? { stagingUrl: row.staging_url, deployedAt: new Date(row.deployed_at).toISOString() } : null;
  return { hasLiveRoot: row?.has_live_root === true, staging };
}

/** The course's context, in one round trip. */
export async function findCourseContext(db: Sql, tenantId: string, courseId: string): Promise<CourseContext> {
  const [row] = await db.execute<CourseContextRow>(
    `select exists (select 1 from distribution where tenant_id = ? and course_id = ? and derived_from is null and deleted_at is null) as has_live_root,
            s.staging_url, s.deployed_at
       from (select 1) as one left join course_staging s on s.course_id = ?`,
    [tenantId, courseId, courseId],
  );
  return toCourseContext(row);
}

/**
 * The contexts of several (tenant, course) pairs in one round trip (the batched consumer reads them ahead), keyed
 * by courseContextKey. What it returns is what findCourseContext would return for each at this point of the
 * transaction.
 */
export async function findCourseContexts(db: Sql, courses: ReadonlyArray<{ tenantId: string; courseId: string }>): Promise<Map<string, CourseContext>> {
  if (courses.length === 0) return new Map();
  const rows = await db.execute<CourseContextRow & { tenant_id: string; course_id: string }>(
    `select c.tenant_id, c.course_id,
            exists (select 1 from distribution d where d.tenant_id = c.tenant_id and d.course_id = c.course_id and d.derived_from is null and d.deleted_at is null) as has_live_root,
            s.staging_url, s.deployed_at
       from unnest(?::text[], ?::text[]) as c(tenant_id, course_id) left join course_staging s on s.course_id = c.course_id`,
    [courses.map((c) => c.tenantId), courses.map((c) => c.courseId)],
  );
  return new Map(rows.map((row) => [courseContextKey(row.tenant_id, row.course_id), toCourseContext(row)]));
}

export const courseContextKey = (tenantId: string, courseId: string): string => `${tenantId}\u0000${courseId}`;

/** Records a deployment unless a later one is already recorded (events of one course arrive in any order). */
export async function recordCourseStaging(db: Sql, courseId: string, staging: CourseStaging): Promise<void> {
  await db.execute(
    `insert into course_staging (course_id, staging_url, deployed_at) values (?, ?, ?)
     on conflict (course_id) do update set staging_url = excluded.staging_url, deployed_at = excluded.deployed_at, received_at = now()
     where course_staging.deployed_at < excluded.deployed_at`,
    [courseId, staging.stagingUrl, staging.deployedAt],
  );
}
