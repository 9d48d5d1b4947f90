import { Migration } from '@mikro-orm/migrations';

/** Distributions, the transactional outbox and idempotency records, with an index for every query the API makes. */
export class Migration20261127100000Initial extends Migration {
  override up(): void {
    this.addSql(`
      create table distribution (
        id text primary key,
        tenant_id text not null,
        course_id text not null,
        slug text not null,
        language text not null,
        title text not null,
        description text not null default '',
        target_group text[] not null default '{}',
        visibility text not null default 'private' check (visibility in ('private', 'public')),
        version text not null default 'v1',
        derived_from text null references distribution (id),
        seo jsonb not null default '{}',
        cta jsonb not null,
        staging_url text null,
        staging_deployed_at timestamptz null,
        view_count bigint not null default 0,
        enrollment_count bigint not null default 0,
        row_version integer not null default 1,
        published_at timestamptz null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        deleted_at timestamptz null,
        deleted_by text null
      )`);
    // get_by_slug (the hot read path) and slug claims: unique among live rows, so a deleted slug is reusable.
    this.addSql(`create unique index distribution_tenant_slug_live_uq on distribution (tenant_id, slug) where deleted_at is null`);
    // list, keyset-paged by id (ULIDs sort by creation time), optionally filtered.
    this.addSql(`create index distribution_tenant_id_live_idx on distribution (tenant_id, id) where deleted_at is null`);
    this.addSql(`create index distribution_tenant_course_live_idx on distribution (tenant_id, course_id, id) where deleted_at is null`);
    this.addSql(`create index distribution_tenant_visibility_live_idx on distribution (tenant_id, visibility, id) where deleted_at is null`);
    this.addSql(`create index distribution_target_group_live_idx on distribution using gin (target_group) where deleted_at is null`);
    // variants of a parent (list by derived_from, delete with cascade) and CourseFactory's events by course.
    this.addSql(`create index distribution_derived_from_live_idx on distribution (derived_from, id) where deleted_at is null`);
    this.addSql(`create index distribution_course_live_idx on distribution (course_id) where deleted_at is null`);

    this.addSql(`
      create table outbox_event (
        id bigserial primary key,
        event_id text not null unique,
        event_type text not null,
        subject text not null,
        aggregate_id text not null,
        tenant_id text not null,
        envelope jsonb not null,
        created_at timestamptz not null default now(),
        published_at timestamptz null,
        attempts integer not null default 0,
        last_error text null
      )`);
    this.addSql(`create index outbox_event_unpublished_idx on outbox_event (id) where published_at is null`);
    this.addSql(`create index outbox_event_published_at_idx on outbox_event (published_at) where published_at is not null`);

    this.addSql(`
      create table idempotency_record (
        tenant_id text not null,
        operation text not null,
        key text not null,
        request_hash text not null,
        response jsonb not null,
        created_at timestamptz not null default now(),
        primary key (tenant_id, operation, key)
      )`);
    this.addSql(`create index idempotency_record_created_at_idx on idempotency_record (created_at)`);
  }

  override down(): void {
    this.addSql('drop table if exists idempotency_record');
    this.addSql('drop table if exists outbox_event');
    this.addSql('drop table if exists distribution');
  }
}
