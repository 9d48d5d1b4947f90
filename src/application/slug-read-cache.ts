/**
 * The hot read path of course pages: get_by_slug answers from a small in-process cache (lru-cache's fetch).
 * - Concurrent reads of one slug share one database query (single flight), whatever the TTL.
 * - A found distribution is kept for `ttlMs`, at most `maxEntries` of them (least recently used go first); 0
 *   disables keeping (single flight still applies). A slug that is not found is not kept.
 * - Every committed command of this instance invalidates the distribution it changed, so this instance reads its
 *   own writes; a load that raced with a write is not stored. Changes made by other instances show after at most
 *   `ttlMs`, and so do view and click counts (which do not invalidate: counting a view must not evict the page).
 */
import { LRUCache } from 'lru-cache';
import type { Distribution } from '../../generated/types.js';

export interface SlugReadCacheOptions {
  ttlMs: number;
  maxEntries: number;
  /** Milliseconds of a monotonic clock, performance.now() by default; lru-cache needs it positive. */
  now?: () => number;
}

export interface SlugReadCache {
  /** The live distribution of the slug in the tenant, from the cache or from `load` (null when there is none). */
  get(tenantId: string, slug: string, load: () => Promise<Distribution | null>): Promise<Distribution | null>;
  /** Drops the cached page of the distribution and every load in flight: call it after this instance changed it. */
  invalidate(tenantId: string, id: string): void;
  /**
   * Pages kept and distributions in the id index. The index follows the cache (lru-cache's onInsert / dispose,
   * whether a page is evicted, expires, is replaced or invalidated), so `indexed` never exceeds `maxEntries`.
   */
  size(): { pages: number; indexed: number };
}

/** The result of a load that found nothing; answered to the readers of that load, never kept. */
const NOT_FOUND = Object.freeze({ notFound: true });
type Loaded = Distribution | typeof NOT_FOUND;
type Load = () => Promise<Distribution | null>;

const isPage = (loaded: Loaded | undefined): loaded is Distribution => loaded !== undefined && loaded !== NOT_FOUND;
const keyOf = (tenantId: string, name: string) => `${tenantId}\u0000${name}`;
const idKeyOf = (page: Distribution) => keyOf(page.tenant_id, page.id);

/** A cache per instance; every read and invalidation of that instance goes through the same one. */
export function createSlugReadCache(options: SlugReadCacheOptions): SlugReadCache {
  /** The cache key of each kept page, by its distribution (tenant + id -> tenant + slug), for invalidate. */
  const keyOfId = new Map<string, string>();
  /** The loads in flight, by cache key, each with the signal lru-cache gave it. */
  const inFlight = new Map<string, AbortSignal>();
  const keep = (loaded: Loaded) => isPage(loaded) && options.ttlMs > 0;
  /** Takes a page that leaves the cache out of the index, unless its distribution is indexed under another key. */
  const forget = (loaded: Loaded | undefined, key: string) => {
    if (isPage(loaded) && keyOfId.get(idKeyOf(loaded)) === key) keyOfId.delete(idKeyOf(loaded));
  };

  const cache = new LRUCache<string, Loaded, Load>({
    max: options.maxEntries,
    ...(options.ttlMs > 0 && { ttl: options.ttlMs }),
    // Now is read on every check (no timer that caches it), so a page is kept for ttlMs exactly.
    ttlResolution: 0,
    ...(options.now && { perf: { now: options.now } }),
    // lru-cache does not store a value larger than maxEntrySize, also when a fetch returns it: this is how a
    // load's result is answered but not kept (not found, or keeping disabled).
    maxEntrySize: 1,
    sizeCalculation: (loaded) => (keep(loaded) ? 1 : 2),
    // invalidate() deletes the loads in flight, which aborts them: with ignoreFetchAbort their readers still get
    // what was read, and lru-cache stores it only if the entry is still that load (it is not: it was deleted).
    // Readers arriving after the deletion start a new load.
    ignoreFetchAbort: true,
    fetchMethod: async (key, stale, { signal, context: load }) => {
      // An expired page being loaded again is replaced without lru-cache's dispose when the new result is not kept
      // (not found any more, or keeping disabled): it leaves the index here, and onInsert puts back what is kept.
      forget(stale, key);
      inFlight.set(key, signal);
      try {
        return (await load()) ?? NOT_FOUND;
      } finally {
        if (inFlight.get(key) === signal) inFlight.delete(key);
      }
    },
    onInsert: (loaded, key) => {
      if (isPage(loaded)) keyOfId.set(idKeyOf(loaded), key);
    },
    dispose: (loaded, key) => forget(loaded, key),
  });

  return {
    async get(tenantId, slug, load) {
      const loaded = await cache.fetch(keyOf(tenantId, slug), { context: load });
      return isPage(loaded) ? loaded : null;
    },
    invalidate(tenantId, id) {
      // A load in flight may have read the state before this change: it must neither be kept nor joined.
      for (const key of [...inFlight.keys()]) cache.delete(key);
      inFlight.clear();
      const key = keyOfId.get(keyOf(tenantId, id));
      if (key !== undefined) cache.delete(key);
    },
    size: () => ({ pages: cache.size, indexed: keyOfId.size }),
  };
}
