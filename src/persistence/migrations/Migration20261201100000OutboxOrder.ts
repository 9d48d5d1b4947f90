import { Migration } from '@mikro-orm/migrations';

/**
 * Lets the relay ask cheaply whether a distribution has an earlier unpublished event (outbox-relay-store.ts,
 * fetchUnpublished): the unpublished rows by distribution, in id order. Partial, so it stays as small as the backlog.
 */
export class Migration20261201100000OutboxOrder extends Migration {
  override up(): void {
    this.addSql(`create index outbox_event_unpublished_aggregate_idx on outbox_event (aggregate_id, id) where published_at is null`);
  }

  override down(): void {
    this.addSql('drop index if exists outbox_event_unpublished_aggregate_idx');
  }
}
