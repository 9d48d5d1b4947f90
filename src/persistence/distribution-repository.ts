/**
 * Reads and writes of the distribution table. Every function takes the caller's transaction (or the pool, for reads)
 * and scopes by tenant; deleted rows are invisible except where a function says otherwise.
 */
import type { Sql } from './database.js';
import type { DistributionState } from '../domain/distribution.js';
import { fromRecord, type DistributionRecord, type LoadedDistribution } from './distribution-rows.js';
import { writeOutboxRows, type OutboxBatch } from './outbox.js';

export type { LoadedDistribution };

/** Thrown when a versioned update finds another row version: someone else changed the row meanwhile. */
export class ConcurrentChangeError extends Error {
  override name = 'ConcurrentChangeError';
  constructor(readonly distributionId: string) {
    super(`distribution ${distributionId} was changed concurrently`);
  }
}

async function selectOne(db: Sql, where: string, params: unknown[]): Promise<LoadedDistribution | null> {
  const [record] = await db.execute<DistributionRecord>(`select * from distribution where ${where} limit 1`, params);
  return record ? fromRecord(record) : null;
}

export function findLiveById(db: Sql, tenantId: string, id: string): Promise<LoadedDistribution | null> {
  return selectOne(db, 'id = ? and tenant_id = ? and deleted_at is null', [id, tenantId]);
}

/** Includes deleted rows: a variant request must tell "parent deleted" (409) from "no such parent" (404). */
export function findAnyById(db: Sql, tenantId: string, id: string): Promise<LoadedDistribution | null> {
  return selectOne(db, 'id = ? and tenant_id = ?', [id, tenantId]);
}

/**
 * Locks the distribution's row until the transaction ends, whether it is live or deleted (a no-op when it does not
 * exist): `update` for a change that must see every committed child (a delete checks for variants), `share` for
 * one that needs the row to stay as it is read (a new variant reads its parent). The two exclude each other across
 * instances, where the mailbox, being per process, cannot.
 */
export async function lockDistribution(db: Sql, tenantId: string, id: string, mode: 'update' | 'share'): Promise<void> {
  await db.execute(`select id from distribution where id = ? and tenant_id = ? for ${mode === 'update' ? 'update' : 'share'}`, [id, tenantId]);
}

export function findLiveBySlug(db: Sql, tenantId: string, slug: string): Promise<LoadedDistribution | null> {
  return selectOne(db, 'tenant_id = ? and slug = ? and deleted_at is null', [tenantId, slug]);
}

export async function findLiveVariants(db: Sql, tenantId: string, parentId: string): Promise<LoadedDistribution[]> {
  const records = await db.execute<DistributionRecord>(`select * from distribution where tenant_id = ? and derived_from = ? and deleted_at is null order by id`, [
    tenantId,
    parentId,
  ]);
  return records.map(fromRecord);
}

/** Live distributions of a course, in every tenant (CourseFactory's course ids are global). */
export async function findLiveByCourse(db: Sql, courseId: string): Promise<LoadedDistribution[]> {
  const records = await db.execute<DistributionRecord>(`select * from distribution where course_id = ? and deleted_at is null order by id`, [courseId]);
  return records.map(fromRecord);
}

/** The live root distributions (not variants) of a course in one tenant, in id order. */
export async function findLiveRoots(db: Sql, tenantId: string, courseId: string): Promise<LoadedDistribution[]> {
  const records = await db.execute<DistributionRecord>(
    `select * from distribution where tenant_id = ? and course_id = ? and derived_from is null and deleted_at is null order by id`,
    [tenantId, courseId],
  );
  return records.map(fromRecord);
}

export interface ListFilter {
  courseId?: string;
  visibility?: 'private' | 'public';
  targetGroup?: string;
  derivedFrom?: string;
  /** Exclusive lower bound of the id (keyset paging; ULIDs sort by creation time). */
  afterId?: string;
  limit: number;
}

/** One page of live distributions in id order; asks for one extra row to know whether another page exists. */
export async function listLive(db: Sql, tenantId: string, filter: ListFilter): Promise<{ items: LoadedDistribution[]; hasMore: boolean }> {
  const where = ['tenant_id = ?', 'deleted_at is null'];
  const params: unknown[] = [tenantId];
  const filterBy = (condition: string, value: unknown) => (where.push(condition), params.push(value));
  if (filter.courseId !== undefined) filterBy('course_id = ?', filter.courseId);
  if (filter.visibility !== undefined) filterBy('visibility = ?', filter.visibility);
  if (filter.targetGroup !== undefined) filterBy('target_group @> array[?]::text[]', filter.targetGroup);
  if (filter.derivedFrom !== undefined) filterBy('derived_from = ?', filter.derivedFrom);
  if (filter.afterId !== undefined) filterBy('id > ?', filter.afterId);
  const rows = await db.execute<DistributionRecord>(`select * from distribution where ${where.join(' and ')} order by id limit ?`, [...params, filter.limit + 1]);
  return { items: rows.slice(0, filter.limit).map(fromRecord), hasMore: rows.length > filter.limit };
}

/** Live slugs of a tenant equal to `base` or `base-<n>`: what an auto-generated slug must avoid. */
export async function findTakenSlugs(db: Sql, tenantId: string, base: string): Promise<Set<string>> {
  const rows = await db.execute<{ slug: string }>(`select slug from distribution where tenant_id = ? and deleted_at is null and (slug = ? or slug like ? escape '\\')`, [
    tenantId,
    base,
    `${base.replace(/[\\%_]/g, (c) => `\\${c}`)}-%`,
  ]);
  return new Set(rows.map((r) => r.slug));
}

/**
 * Inserts a new distribution, and its events into the outbox, in one statement (one round trip), unless its slug is
 * taken by a live distribution of the tenant; returns whether it was inserted (the events only are when it was).
 * A taken slug does not abort the transaction (ON CONFLICT DO NOTHING), so the caller may try another.
 */
export async function insertDistribution(db: Sql, state: DistributionState, events: OutboxBatch): Promise<boolean> {
  const inserted = await db.execute<{ id: string }>(
    `with inserted as (
       insert into distribution
       select * from jsonb_populate_record(null::distribution, ?::jsonb)
       on conflict (tenant_id, slug) where deleted_at is null do nothing
       returning id
     ), appended as (${writeOutboxRows({ where: 'exists (select 1 from inserted)' })}
     )
     select id from inserted`,
    [JSON.stringify({ ...state, row_version: 1 }), events.json],
  );
  return inserted.length === 1;
}

/**
 * Writes the new state if the row still has `expectedRowVersion` (and bumps it); otherwise throws
 * ConcurrentChangeError. Returns the new row version.
 */
export async function updateDistribution(db: Sql, state: DistributionState, expectedRowVersion: number, audit: { deletedBy?: string } = {}): Promise<number> {
  // Counters are not written here: they are only ever incremented in SQL (counter-increments.ts).
  const changed = await db.execute<{ row_version: number }>(
    `update distribution d
        set slug = n.slug, language = n.language, title = n.title, description = n.description, target_group = n.target_group,
            visibility = n.visibility, version = n.version, seo = n.seo, cta = n.cta, staging_url = n.staging_url,
            staging_deployed_at = n.staging_deployed_at, published_at = n.published_at, updated_at = n.updated_at,
            deleted_at = n.deleted_at, deleted_by = coalesce(n.deleted_by, d.deleted_by), row_version = d.row_version + 1
       from jsonb_populate_record(null::distribution, ?::jsonb) n
      where d.id = ? and d.tenant_id = ? and d.row_version = ?
      returning d.row_version`,
    [JSON.stringify({ ...state, deleted_by: audit.deletedBy ?? null }), state.id, state.tenant_id, expectedRowVersion],
  );
  if (changed.length !== 1) throw new ConcurrentChangeError(state.id);
  return expectedRowVersion + 1;
}

/** Ids of the live distributions of the courses (in every tenant): the mailbox keys a batch of staging deployments takes. */
export async function findLiveIdsByCourses(db: Sql, courseIds: readonly string[]): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(`select id from distribution where course_id = any(?::text[]) and deleted_at is null`, [courseIds]);
  return rows.map((r) => r.id);
}
