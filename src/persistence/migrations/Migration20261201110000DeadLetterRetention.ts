import { Migration } from '@mikro-orm/migrations';

/**
 * Lets the retention cleanup find replayed dead letters by replay time (retention-cleanup.ts,
 * deleteDeadLettersReplayedBefore). Partial: open letters, which are kept, are not in it.
 */
export class Migration20261201110000DeadLetterRetention extends Migration {
  override up(): void {
    this.addSql(`create index dead_letter_replayed_idx on dead_letter (replayed_at) where replayed_at is not null`);
  }

  override down(): void {
    this.addSql('drop index if exists dead_letter_replayed_idx');
  }
}
