/** The latest staging deployment per course (CourseFactory's course ids are global, not per tenant). */
import type { Sql } from './database.js';
import { COURSE_LOCK_PREFIX, TEXT_KEY_LOCK_SQL, courseLockKey } from './advisory-locks.js';

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
 * Takes the course's lock (courseLockKey) for the rest of the transaction, then reads its latest deployment: two
 * statements, so the read sees a deployment that committed while this transaction waited for the lock. A deployment
 * being consumed holds the lock from its claim to its commit, so a new distribution either sees it here or is seen
 * by it (it updates every live distribution of the course it finds after the claim).
 */
export async function lockCourseAndFindStaging(db: Sql, courseId: string): Promise<CourseStaging | null> {
  await db.execute(`select ${TEXT_KEY_LOCK_SQL}`, [courseLockKey(courseId)]);
  return findCourseStaging(db, courseId);
}

/** The same for the course of a distribution (a variant's parent), found by id: lock taken in the statement that reads the course id. */
export async function lockCourseOfAndFindStaging(db: Sql, tenantId: string, distributionId: string): Promise<CourseStaging | null> {
  const [row] = await db.execute<{ course_id: string }>(`select course_id, ${TEXT_KEY_LOCK_SQL.replace('?', `? || course_id`)} from distribution where id = ? and tenant_id = ?`, [
    COURSE_LOCK_PREFIX,
    distributionId,
    tenantId,
  ]);
  return row ? findCourseStaging(db, row.course_id) : null;
}

async function findCourseStaging(db: Sql, courseId: string): Promise<CourseStaging | null> {
  const [row] = await db.execute<{ staging_url: string; deployed_at: string | Date }>(`select staging_url, deployed_at from course_staging where course_id = ?`, [courseId]);
  return row ? { stagingUrl: row.staging_url, deployedAt: new Date(row.deployed_at).toISOString() } : null;
}
