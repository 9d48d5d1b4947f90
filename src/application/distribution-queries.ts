/**
 * The read operations. They read committed state directly (they do not queue behind writes in the mailbox) and
 * see only the caller's tenant: a distribution of another tenant is reported exactly like a missing one.
 */
import type { Distribution, GetBySlugRequest, GetRequest, ListRequest, ListResponse } from '../../generated/types.js';
import { toResource } from '../domain/distribution.js';
import { ServiceFailure } from '../errors.js';
import { findLiveById, findLiveBySlug, listLive } from '../persistence/distribution-repository.js';
import type { Sql } from '../persistence/database.js';
import type { RequestContext, ServiceDeps } from './deps.js';
import type { SlugReadCache } from './slug-read-cache.js';
import { notFound } from './distribution-commands.js';

export const DEFAULT_PAGE_SIZE = 20;

/** A read of committed state, outside any transaction; failures are judged where they are answered. */
function read<T>(deps: ServiceDeps, query: (db: Sql) => Promise<T>): Promise<T> {
  return query(deps.db);
}

export function getOne(deps: ServiceDeps, context: RequestContext, request: GetRequest): Promise<Distribution> {
  return read(deps, async (em) => {
    const loaded = await findLiveById(em, context.tenantId, request.id);
    if (!loaded) throw notFound(request.id);
    return toResource(loaded.state, loaded.rowVersion);
  });
}

/** The hot read path of course pages: answered through the slug read cache (see slug-read-cache.ts). */
export async function getBySlug(deps: ServiceDeps, cache: SlugReadCache, context: RequestContext, request: GetBySlugRequest): Promise<Distribution> {
  const found = await cache.get(context.tenantId, request.slug, () =>
    read(deps, async (em) => {
      const loaded = await findLiveBySlug(em, context.tenantId, request.slug);
      return loaded ? toResource(loaded.state, loaded.rowVersion) : null;
    }),
  );
  if (!found) throw new ServiceFailure('NOT_FOUND', `no distribution with slug "${request.slug}" in this tenant`, { slug: request.slug });
  return found;
}

/** Cursors are opaque to callers: base64url of the last id of the previous page. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId })).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof decoded.after === 'string' && /^dist_[0-9A-Za-z]{1,64}$/.test(decoded.after)) return decoded.after;
  } catch {
    // fall through to the 400 below
  }
  throw new ServiceFailure('VALIDATION_FAILED', 'cursor is not one this service issued', [{ path: '/cursor', reason: 'not a cursor from next_cursor' }]);
}

export function listPage(deps: ServiceDeps, context: RequestContext, request: ListRequest): Promise<ListResponse> {
  const afterId = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
  return read(deps, async (em) => {
    const page = await listLive(em, context.tenantId, {
      courseId: request.course_id,
      visibility: request.visibility,
      targetGroup: request.target_group,
      derivedFrom: request.derived_from,
      afterId,
      limit: request.limit ?? DEFAULT_PAGE_SIZE,
    });
    const items = page.items.map((d) => toResource(d.state, d.rowVersion));
    const last = items.at(-1);
    return { items, next_cursor: page.hasMore && last ? encodeCursor(last.id) : null };
  });
}
