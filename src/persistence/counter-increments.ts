/**
 * The statement that counts views or enrollment clicks: the increments of a whole batch and what they leave to be
 * announced (counter_pending), in one statement (atomic on its own), so a counted view is never lost to the events:
 * counter-announcements.ts announces them once their window ended. The counters run it in a short transaction that
 * first limits the lock wait (the transaction's lockTimeoutMs), and, when a row is held by someone else, lock the
 * free rows first (lockFreeRows).
 */
import type { Sql } from './database.js';

/** The counter columns. */
export type CounterColumn = 'view_count' | 'enrollment_count';

/** What is counted: `views` in view_count, `clicks` in enrollment_count (also the `kind` of counter_pending). */
export type CounterKind = 'views' | 'clicks';

export const COUNTER_COLUMN: Record<CounterKind, CounterColumn> = { views: 'view_count', clicks: 'enrollment_count' };

export interface CounterIncrement {
  tenantId: string;
  id: string;
  /** The referrer_category of views, the cta_type of clicks. */
  category: string;
  n: number;
}

export interface CounterTotal {
  tenantId: string;
  id: string;
  /** The column's value after this statement's increments. */
  total: number;
}

/**
 * Adds the increments to the counter of their live distributions and to what is pending announcement, in one
 * statement. Each (tenant, id, category) must appear once. Rows are locked in id order, so concurrent calls cannot
 * deadlock; counter_pending rows are only written by holders of their distribution's row lock (here and when they
 * are announced), so the pending counts and the total always agree. Returns the new totals; a distribution missing
 * from them is not live in its tenant, and nothing of it was written. row_version is left alone: an increment
 * commutes with every command.
 *
 * @param countedAt - The service's time of the batch: the announced events' viewed_at / clicked_at.
 * @param options.lockTimeoutMs - The longest wait for a row lock (55P03 past it), set by the statement itself, so it
 *   may run as its own transaction (Database.statement: one round trip).
 */
export async function incrementCounters(
  db: Sql,
  kind: CounterKind,
  increments: readonly CounterIncrement[],
  countedAt: string,
  options: { lockTimeoutMs?: number } = {},
): Promise<CounterTotal[]> {
  const column = COUNTER_COLUMN[kind];
  const rows = await db.execute<{ id: string; tenant_id: string; total: string | number }>(
    `with cfg as (
       -- lock_timeout for this transaction (when the statement is its own, autocommit): set before any row is locked,
       -- since no row reaches the lock of 'locked' before the join with this one row.
       select set_config('lock_timeout', coalesce(?, current_setting('lock_timeout')), true) as lock_timeout
     ), v as (
       select * from jsonb_to_recordset(?::jsonb) as v(tenant_id text, id text, category text, n bigint)
     ), per as (
       select tenant_id, id, sum(n) as n from v group by tenant_id, id
     ), locked as (
       select d.id from cfg, distribution d join per on d.tenant_id = per.tenant_id and d.id = per.id
        where d.deleted_at is null order by d.id for update of d
     ), updated as (
       update distribution d set ${column} = d.${column} + per.n
         from per, locked where d.id = locked.id and d.id = per.id and d.tenant_id = per.tenant_id
       returning d.id, d.tenant_id, d.${column} as total
     ), pending as (
       -- clock_timestamp(): read after the row lock is held, so a window starts after the announcement before it.
       insert into counter_pending (distribution_id, kind, category, tenant_id, n, first_at, last_at)
       select v.id, ?, v.category, v.tenant_id, v.n, clock_timestamp(), ?::timestamptz
         from v join updated u on u.id = v.id and u.tenant_id = v.tenant_id
        order by v.id, v.category
       on conflict (distribution_id, kind, category) do update set n = counter_pending.n + excluded.n, last_at = excluded.last_at
     )
     select id, tenant_id, total from updated`,
    [
      options.lockTimeoutMs === undefined ? null : String(Math.max(1, Math.floor(options.lockTimeoutMs))),
      JSON.stringify(increments.map((i) => ({ tenant_id: i.tenantId, id: i.id, category: i.category, n: i.n }))),
      kind,
      countedAt,
    ],
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, id: r.id, total: Number(r.total) }));
}

/**
 * Locks, for the rest of the transaction `db`, the rows of `ids` that no other transaction holds, without waiting,
 * and returns the ids of the rows another transaction holds (those it skipped). Unknown ids are in neither.
 */
export async function lockFreeRows(db: Sql, ids: readonly string[]): Promise<Set<string>> {
  const held = await db.execute<{ id: string }>(
    `with free as (
       select id from distribution where id = any(?::text[]) order by id for update skip locked
     )
     select d.id from distribution d where d.id = any(?::text[]) and d.id not in (select id from free)`,
    [ids, ids],
  );
  return new Set(held.map((r) => r.id));
}
