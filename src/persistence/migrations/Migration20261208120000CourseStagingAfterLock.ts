import { Migration } from '@mikro-orm/migrations';

/**
 * `course_staging_after_lock(course_id)`: takes the course's transaction lock (the text lock `course:<id>` of
 * advisory-locks.ts, same hash and seed) and then returns its latest staging deployment, in one round trip. A
 * volatile PL/pgSQL function reads with a snapshot taken after the lock is held, so it sees a deployment that
 * committed while it waited, which a single SQL statement (one snapshot, taken before its lock wait) would not.
 * Used by the commands that create a distribution (course-staging.ts). A null course id locks and returns nothing.
 */
export class Migration20261208120000CourseStagingAfterLock extends Migration {
  override up(): void {
    this.addSql(`
      create function course_staging_after_lock(p_course_id text)
      returns table (staging_url text, deployed_at timestamptz) language plpgsql volatile as $$
      begin
        if p_course_id is null then return; end if;
        perform pg_advisory_xact_lock(hashtextextended('course:' || p_course_id, 7262002));
        return query select s.staging_url, s.deployed_at from course_staging s where s.course_id = p_course_id;
      end $$`);
  }

  override down(): void {
    this.addSql('drop function if exists course_staging_after_lock(text)');
  }
}
