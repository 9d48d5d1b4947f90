/**
 * The database side of announcing views and clicks: which distributions have counts pending whose window ended,
 * and taking those counts (deleted in the transaction that appends their events). Both run in one transaction,
 * in this order, so the counts taken and the totals read agree: the first locks the distributions' rows, which every
 * increment holds while it writes its pending counts (counter-increments.ts).
 */
import type { Sql } from './database.js';
import { COUNTER_COLUMN, type CounterKind } from './counter-increments.js';

/** The pending counts of one distribution and category, with the distribution's slug and total as they are now. */
export interface TakenCount {
  tenantId: string;
  distributionId: string;
  slug: string;
  total: number;
  category: string;
  n: number;
  lastAt: string;
}

/**
 * Locks, until the transaction ends and in id order (as increments lock them, so no deadlock), the rows of up to
 * `limit` distributions whose oldest pending `kind` count was written at least `windowMs` ago by the database's
 * clock (0: every pending count). Returns their ids.
 */
export async function lockDueDistributions(db: Sql, kind: CounterKind, windowMs: number, limit: number): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(
    `select d.id from distribution d
      where d.id in (select distribution_id from counter_pending where kind = ?
                      group by distribution_id having min(first_at) <= clock_timestamp() - ? * interval '1 millisecond'
                      order by distribution_id limit ?)
      order by d.id for update of d`,
    [kind, windowMs, limit],
  );
  return rows.map((r) => r.id);
}

/** Deletes and returns the pending `kind` counts of `ids`, whose rows this transaction must have locked (lockDueDistributions). */
export async function takePendingCounts(db: Sql, kind: CounterKind, ids: readonly string[]): Promise<TakenCount[]> {
  const column = COUNTER_COLUMN[kind];
  const rows = await db.execute<{ tenant_id: string; distribution_id: string; slug: string; total: string | number; category: string; n: string | number; last_at: Date | string }>(
    `with taken as (
       delete from counter_pending p where p.kind = ? and p.distribution_id = any(?::text[])
       returning p.distribution_id, p.tenant_id, p.category, p.n, p.last_at
     )
     select t.tenant_id, t.distribution_id, d.slug, d.${column} as total, t.category, t.n, t.last_at
       from taken t join distribution d on d.id = t.distribution_id
      order by t.distribution_id, t.category`,
    [kind, ids],
  );
  return rows.map((r) => ({
    tenantId: r.tenant_id,
    distributionId: r.distribution_id,
    slug: r.slug,
    total: Number(r.total),
    category: r.category,
    n: Number(r.n),
    lastAt: new Date(r.last_at).toISOString(),
  }));
}
