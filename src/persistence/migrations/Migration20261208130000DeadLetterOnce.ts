import { Migration } from '@mikro-orm/migrations';

/**
 * One open dead letter per consumed message (consumer, message id): a redelivery after a lost term() finds its
 * letter stored (dead-letters.ts, storeDeadLetter). Open letters stored twice by earlier releases are merged first:
 * the oldest stays, the later copies of the same message (same bytes) go.
 */
export class Migration20261208130000DeadLetterOnce extends Migration {
  override up(): void {
    this.addSql(`
      delete from dead_letter later using dead_letter first
      where later.consumer = first.consumer and later.message_id = first.message_id and later.id > first.id
        and later.replayed_at is null and first.replayed_at is null`);
    this.addSql(`create unique index dead_letter_open_message_uq on dead_letter (consumer, message_id) where replayed_at is null and message_id is not null`);
  }

  override down(): void {
    this.addSql('drop index if exists dead_letter_open_message_uq');
  }
}
