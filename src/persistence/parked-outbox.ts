/**
 * The operator's side of parked outbox rows (see outbox-relay-store.ts, markFailed): list and count them, retry one
 * (it gets OUTBOX_MAX_ATTEMPTS fresh attempts) or discard one (deleted: its event is never published, and the
 * later rows of its distribution go out). Retry and discard notify the relay's channel, so it runs a pass at once.
 * Each is one statement on a pooled connection; a row that is not parked (any more) is reported as not found.
 */
import type { Sql } from './database.js';
import { OUTBOX_CHANNEL } from './relay-session.js';

/** What names an outbox row, as its columns are called (snake_case, as the operator endpoints answer). */
export interface OutboxRowColumns {
  /** bigint, as a string. */
  id: string;
  event_id: string;
  event_type: string;
  subject: string;
  aggregate_id: string;
  tenant_id: string;
}

export interface ParkedOutboxRow extends OutboxRowColumns {
  attempts: number;
  last_error: string | null;
  created_at: Date;
  parked_at: Date;
  /** Later unpublished rows of the same distribution, held up by this one. */
  blocked: number;
}

export async function listParked(db: Sql, options: { limit: number; afterId: string }): Promise<ParkedOutboxRow[]> {
  return db.execute<ParkedOutboxRow>(
    `select o.id::text as id, o.event_id, o.event_type, o.subject, o.aggregate_id, o.tenant_id, o.attempts, o.last_error, o.created_at, o.parked_at,
            (select count(*) from outbox_event e where e.aggregate_id = o.aggregate_id and e.published_at is null and e.id > o.id)::int as blocked
       from outbox_event o
      where o.parked_at is not null and o.id > ?::bigint
      order by o.id limit ?`,
    [options.afterId, options.limit],
  );
}

export async function countParked(db: Sql): Promise<number> {
  const [row] = await db.execute<{ n: string }>(`select count(*)::text as n from outbox_event where parked_at is not null`);
  return Number(row?.n ?? 0);
}

/** Unparks row `id` with its attempts reset; null when no such row is parked. */
export async function retryParked(db: Sql, id: string): Promise<{ id: string; event_id: string } | null> {
  const [row] = await db.execute<{ id: string; event_id: string }>(
    `with r as (update outbox_event set parked_at = null, attempts = 0 where id = ?::bigint and parked_at is not null and published_at is null returning id, event_id)
     select r.id::text as id, r.event_id from r, lateral (select pg_notify('${OUTBOX_CHANNEL}', '')) n`,
    [id],
  );
  return row ?? null;
}

/** Deletes parked row `id` and returns it (its envelope included); null when no such row is parked. */
export async function discardParked(db: Sql, id: string): Promise<{ id: string; event_id: string; subject: string; envelope: unknown } | null> {
  const [row] = await db.execute<{ id: string; event_id: string; subject: string; envelope: unknown }>(
    `with r as (delete from outbox_event where id = ?::bigint and parked_at is not null and published_at is null returning id, event_id, subject, envelope)
     select r.id::text as id, r.event_id, r.subject, r.envelope from r, lateral (select pg_notify('${OUTBOX_CHANNEL}', '')) n`,
    [id],
  );
  return row ?? null;
}
