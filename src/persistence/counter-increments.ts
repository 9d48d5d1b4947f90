/**
 * The statement that counts views or enrollment clicks: the increments of a whole batch and one aggregate event per
 * distribution, in one statement (atomic on its own). The counters run it in a short transaction that first limits
 * the lock wait (the transaction's lockTimeoutMs), and, when a row is held by someone else, lock the free rows first (lockFreeRows).
 */
import type { Sql } from './database.js';
import { writeOutboxRows, type OutboxBatch } from './outbox.js';

/** The counter columns; each is also the name of the new total in its event's payload. */
export type CounterColumn = 'view_count' | 'enrollment_count';

export interface CounterIncrement {
  tenantId: string;
  id: string;
  n: number;
}

export interface CounterTotal {
  tenantId: string;
  id: string;
  /** The column's value after this statement's increment. */
  total: number;
}

/**
 * Adds each increment to `column` of its live distribution and appends the events (one per distribution, in the
 * batch's order) for the distributions it counted, in one statement. Rows are locked in id order, so concurrent
 * calls cannot deadlock. Only the database knows two fields of each event: it sets `payload.slug` to the row's slug
 * and `payload.<column>` to the new total. Returns the new totals; a distribution missing from them is not live in
 * its tenant, and neither it nor its event was written. row_version is left alone: an increment commutes with every
 * command.
 *
 * @param events - One event per increment whose `aggregate_id` is the increment's distribution.
 */
export async function incrementCounters(db: Sql, column: CounterColumn, increments: readonly CounterIncrement[], events: OutboxBatch): Promise<CounterTotal[]> {
  const rows = await db.execute<{ id: string; tenant_id: string; total: string | number }>(
    `with v as (
       select * from jsonb_to_recordset(?::jsonb) as v(tenant_id text, id text, n bigint)
     ), locked as (
       select d.id from distribution d join v on d.tenant_id = v.tenant_id and d.id = v.id
        where d.deleted_at is null order by d.id for update of d
     ), updated as (
       update distribution d set ${column} = d.${column} + v.n
         from v, locked where d.id = locked.id and d.id = v.id and d.tenant_id = v.tenant_id
       returning d.id, d.tenant_id, d.slug, d.${column} as total
     ), appended as (${writeOutboxRows({
       join: 'updated u on u.id = e.aggregate_id and u.tenant_id = e.tenant_id',
       envelope: `jsonb_set(jsonb_set(e.envelope, '{payload,slug}', to_jsonb(u.slug)), '{payload,${column}}', to_jsonb(u.total))`,
     })}
     )
     select id, tenant_id, total from updated`,
    [JSON.stringify(increments.map((i) => ({ tenant_id: i.tenantId, id: i.id, n: i.n }))), events.json],
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
