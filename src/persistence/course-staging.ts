/** The latest staging deployment per course (CourseFactory's course ids are global, not per tenant). */
import type { EntityManager } from '@mikro-orm/postgresql';

export interface CourseStaging {
  stagingUrl: string;
  deployedAt: string;
}

/**
 * Serialises everything that touches one course's distributions from consumed events, across instances, until the
 * transaction ends: a staging deployment and the creation of the course's distribution cannot miss each other.
 */
export async function lockCourse(em: EntityManager, courseId: string): Promise<void> {
  await em.execute(`select pg_advisory_xact_lock(hashtextextended(?, 7262002))`, [`course:${courseId}`]);
}

/** Records a deployment unless a later one is already recorded (events of one course arrive in any order). */
export async function recordCourseStaging(em: EntityManager, courseId: string, staging: CourseStaging): Promise<void> {
  await em.execute(
    `insert into course_staging (course_id, staging_url, deployed_at) values (?, ?, ?)
     on conflict (course_id) do update set staging_url = excluded.staging_url, deployed_at = excluded.deployed_at, received_at = now()
     where course_staging.deployed_at < excluded.deployed_at`,
    [courseId, staging.stagingUrl, staging.deployedAt],
  );
}

export async function findCourseStaging(em: EntityManager, courseId: string): Promise<CourseStaging | null> {
  const [row] = await em.execute<{ staging_url: string; deployed_at: string | Date }[]>(
    `select staging_url, deployed_at from course_staging where course_id = ?`,
    [courseId],
  );
  return row ? { stagingUrl: row.staging_url, deployedAt: new Date(row.deployed_at).toISOString() } : null;
}
