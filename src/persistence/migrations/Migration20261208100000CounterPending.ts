import { Migration } from '@mikro-orm/migrations';

/**
 * Views and clicks counted but not yet announced (counter-increments.ts writes them in the statement that counts,
 * counter-announcements.ts turns them into events once their window ended and deletes them). One row per
 * distribution, kind and category; only pending counts live here, so the table stays as small as one window's traffic.
 */
export class Migration20261208100000CounterPending extends Migration {
  override up(): void {
    this.addSql(`
      create table counter_pending (
        distribution_id text not null,
        kind text not null,
        category text not null,
        tenant_id text not null,
        n bigint not null,
        first_at timestamptz not null,
        last_at timestamptz not null,
        primary key (distribution_id, kind, category)
      )`);
  }

  override down(): void {
    this.addSql('drop table if exists counter_pending');
  }
}
