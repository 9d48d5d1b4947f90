import { Migration } from '@mikro-orm/migrations';

/**
 * Parked outbox rows (outbox-relay-store.ts, markFailed): a row the stream refused on its own OUTBOX_MAX_ATTEMPTS
 * times gets `parked_at`; the relay skips it and the later rows of its distribution until an operator retries or
 * discards it (ops.outbox_retry / ops.outbox_discard). The partial index keeps counting and listing them cheap.
 */
export class Migration20261201120000OutboxParked extends Migration {
  override up(): void {
    this.addSql(`alter table outbox_event add column parked_at timestamptz null`);
    this.addSql(`create index outbox_event_parked_idx on outbox_event (id) where parked_at is not null`);
  }

  override down(): void {
    this.addSql('drop index if exists outbox_event_parked_idx');
    this.addSql('alter table outbox_event drop column if exists parked_at');
  }
}
