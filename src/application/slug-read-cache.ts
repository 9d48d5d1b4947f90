/**
 * The hot read path of course pages: get_by_slug answers from a small in-process cache.
 * - Concurrent reads of one slug share one database query (single flight), whatever the TTL.
 * - A found distribution is kept for `ttlMs`; 0 disables keeping (single flight still applies).
 * - Every committed command of this instance invalidates the distribution it changed, so this instance reads its
 *   own writes; a load that raced with a write is not stored. Changes made by other instances show after at most
 *   `ttlMs`, and so do view and click counts (which do not invalidate: counting a view must not evict the page).
 */
import type { Distribution } from '../../generated/types.js';

export interface SlugReadCacheOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

export interface SlugReadCache {
  get(tenantId: string, slug: string, load: () => Promise<Distribution | null>): Promise<Distribution | null>;
  invalidate(tenantId: string, id: string): void;
}

export function createSlugReadCache(options: SlugReadCacheOptions): SlugReadCache {
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, { value: Distribution; expiresAt: number }>();
  const keyOfId = new Map<string, string>();
  const inFlight = new Map<string, Promise<Distribution | null>>();
  /** Bumped by every invalidation; a load that saw another epoch at its start is not stored. */
  let epoch = 0;

  function store(key: string, value: Distribution): void {
    if (options.ttlMs <= 0) return;
    if (entries.size >= options.maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    entries.set(key, { value, expiresAt: now() + options.ttlMs });
    keyOfId.set(`${value.tenant_id}\u0000${value.id}`, key);
  }

  return {
    get(tenantId, slug, load) {
      const key = `${tenantId}\u0000${slug}`;
      const hit = entries.get(key);
      if (hit && hit.expiresAt > now()) return Promise.resolve(hit.value);
      if (hit) entries.delete(key);
      const pending = inFlight.get(key);
      if (pending) return pending;
      const startedAt = epoch;
      const loading = load()
        .then((value) => {
          if (value && startedAt === epoch) store(key, value);
          return value;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, loading);
      return loading;
    },
    invalidate(tenantId, id) {
      epoch++;
      // Requests arriving from now on must not join a load that may have read the state before this change.
      inFlight.clear();
      const idKey = `${tenantId}\u0000${id}`;
      const key = keyOfId.get(idKey);
      if (key !== undefined) entries.delete(key);
      keyOfId.delete(idKey);
    },
  };
}
