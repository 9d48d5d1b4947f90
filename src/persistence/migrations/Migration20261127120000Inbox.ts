import { Migration } from '@mikro-orm/migrations';

/**
 * The consumer side: processed messages (the dedup table, claimed in the transaction of the effect), dead letters
 * (original subject, headers and bytes, with the reason), and the latest staging deployment of each course (so a
 * staging event that arrives before its distribution exists is applied when the distribution is created).
 */
export class Migration20261127120000Inbox extends Migration {
  override up(): void {
    this.addSql(`
      create table processed_message (
        consumer text not null,
        message_id text not null,
        stream text not null,
        stream_seq bigint not null,
        subject text not null,
        processed_at timestamptz not null default now(),
        primary key (consumer, message_id)
      )`);
    this.addSql(`create index processed_message_processed_at_idx on processed_message (processed_at)`);

    this.addSql(`
      create table dead_letter (
        id bigserial primary key,
        consumer text not null,
        message_id text null,
        subject text not null,
        headers jsonb not null,
        data bytea not null,
        reason text not null,
        delivery_count integer not null,
        stream text null,
        stream_seq bigint null,
        failed_at timestamptz not null default now(),
        replayed_at timestamptz null,
        replay_outcome text null
      )`);
    this.addSql(`create index dead_letter_open_idx on dead_letter (id) where replayed_at is null`);

    this.addSql(`
      create table course_staging (
        course_id text primary key,
        staging_url text not null,
        deployed_at timestamptz not null,
        received_at timestamptz not null default now()
      )`);
  }

  override down(): void {
    this.addSql('drop table if exists course_staging');
    this.addSql('drop table if exists dead_letter');
    this.addSql('drop table if exists processed_message');
  }
}
