import { Migration } from '@mikro-orm/migrations';

/**
 * Wakes the outbox relay on commit: every statement that inserts outbox rows queues a NOTIFY on the channel
 * `outbox_event`, which PostgreSQL delivers only when (and if) the transaction commits, to every listening session
 * of this database, so the active relay wakes whichever instance wrote the rows. Notifications of one transaction
 * with the same payload collapse into one. A lost notification costs at most the relay's poll interval.
 */
export class Migration20261127110000OutboxNotify extends Migration {
  override up(): void {
    this.addSql(`
      create function outbox_event_notify() returns trigger language plpgsql as $$
      begin
        perform pg_notify('outbox_event', '');
        return null;
      end $$`);
    this.addSql(`create trigger outbox_event_notify after insert on outbox_event for each statement execute function outbox_event_notify()`);
  }

  override down(): void {
    this.addSql('drop trigger if exists outbox_event_notify on outbox_event');
    this.addSql('drop function if exists outbox_event_notify()');
  }
}
