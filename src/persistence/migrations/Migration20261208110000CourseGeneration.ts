import { Migration } from '@mikro-orm/migrations';

/**
 * The latest `completed_at` of each course's `course.generation.completed` (course-generation.ts): a newer one is a
 * regeneration (the root distribution's version is bumped), an equal or older one a re-send (no-op).
 * Courses whose root distribution exists already are backfilled with the root's creation time: the completion that
 * created it happened before it, so its re-send is older (a no-op), and a regeneration since is newer.
 */
export class Migration20261208110000CourseGeneration extends Migration {
  override up(): void {
    this.addSql(`
      create table course_generation (
        course_id text primary key,
        completed_at timestamptz not null,
        received_at timestamptz not null default now()
      )`);
    this.addSql(`
      insert into course_generation (course_id, completed_at)
      select course_id, min(created_at) from distribution where derived_from is null group by course_id`);
  }

  override down(): void {
    this.addSql('drop table if exists course_generation');
  }
}
