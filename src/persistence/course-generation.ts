/** The latest generation per course (CourseFactory's course ids are global, not per tenant). */
import type { Sql } from './database.js';

/**
 * Records `completedAt` as the course's latest generation unless an equal or later one is recorded. Returns
 * `regenerated`: an earlier generation was recorded and this one is later (a re-send, equal or older, is not).
 * The caller holds the course lock (the claim), so concurrent completions of one course are decided one at a time.
 */
export async function recordCourseGeneration(db: Sql, courseId: string, completedAt: string): Promise<{ regenerated: boolean }> {
  const [row] = await db.execute<{ regenerated: boolean }>(
    `with previous as (
       select completed_at from course_generation where course_id = ?
     ), recorded as (
       insert into course_generation (course_id, completed_at) values (?, ?)
       on conflict (course_id) do update set completed_at = excluded.completed_at, received_at = now()
        where course_generation.completed_at < excluded.completed_at
       returning 1
     )
     select exists (select 1 from previous) and exists (select 1 from recorded) as regenerated`,
    [courseId, courseId, completedAt],
  );
  return { regenerated: row?.regenerated === true };
}
