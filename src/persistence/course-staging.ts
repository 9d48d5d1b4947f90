/** The latest staging deployment per course (CourseFactory's course ids are global, not per tenant). */
import type { Sql } from './database.js';

export interface CourseStaging {
  stagingUrl: string;
  deployedAt: string;
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

/**
 * Takes the course's lock (courseLockKey) for the rest of the transaction, then reads its latest deployment, in one
 * round trip (the function course_staging_after_lock, whose read sees a deployment that committed while this
 * transaction waited for the lock). A deployment being consumed holds the lock from its claim to its commit, so a
 * new distribution either sees it here or is seen by it (it updates every live distribution of the course it finds
 * after the claim).
 */
export async function lockCourseAndFindStaging(db: Sql, courseId: string): Promise<CourseStaging | null> {
  return stagingOf(await db.execute<StagingRow>(`select * from course_staging_after_lock(?)`, [courseId]));
}

/** The same for the course of a distribution (a variant's parent), found by id; nothing when there is no such distribution. */
export async function lockCourseOfAndFindStaging(db: Sql, tenantId: string, distributionId: string): Promise<CourseStaging | null> {
  return stagingOf(
    await db.execute<StagingRow>(`select * from course_staging_after_lock((select course_id from distribution where id = ? and tenant_id = ?))`, [distributionId, tenantId]),
  );
}

interface StagingRow {
  staging_url: string;
  deployed_at: string | Date;
}

function stagingOf([row]: StagingRow[]): CourseStaging | null {
  return row ? { stagingUrl: row.staging_url, deployedAt: new Date(row.deployed_at).toISOString() } : null;
}
