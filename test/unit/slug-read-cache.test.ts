import t from 'tap';
import { createSlugReadCache } from '../../src/application/slug-read-cache.js';
import type { Distribution } from '../../generated/types.js';

const page = (id: string, title: string): Distribution => ({ id, tenant_id: 'tenant_a', slug: 'kurs', title }) as unknown as Distribution;

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

t.test('when a slug is read twice within the TTL, then the database is asked once', async (t) => {
  const start = 5_000;
  let clock = start;
  const cache = createSlugReadCache({ ttlMs: 1000, maxEntries: 10, now: () => clock });
  let loads = 0;
  const load = async () => (loads++, page('dist_1', 'Kurs'));
  await cache.get('tenant_a', 'kurs', load);
  clock = start + 999;
  await cache.get('tenant_a', 'kurs', load);
  t.equal(loads, 1);
  clock = start + 1001;
  await cache.get('tenant_a', 'kurs', load);
  t.equal(loads, 2, 'asked again after the TTL');
});

t.test('when reads of one slug arrive while it is loading, then they share one load (also with TTL 0)', async (t) => {
  const cache = createSlugReadCache({ ttlMs: 0, maxEntries: 10 });
  const gate = deferred<Distribution | null>();
  let loads = 0;
  const load = () => (loads++, gate.promise);
  const reads = [cache.get('tenant_a', 'kurs', load), cache.get('tenant_a', 'kurs', load), cache.get('tenant_a', 'kurs', load)];
  gate.resolve(page('dist_1', 'Kurs'));
  const results = await Promise.all(reads);
  t.equal(loads, 1);
  t.ok(results.every((r) => r?.id === 'dist_1'));
  await cache.get('tenant_a', 'kurs', async () => (loads++, page('dist_1', 'Kurs')));
  t.equal(loads, 2, 'TTL 0 keeps nothing');
});

t.test('when this instance changes a distribution, then its cached page is dropped at once', async (t) => {
  const cache = createSlugReadCache({ ttlMs: 60_000, maxEntries: 10 });
  await cache.get('tenant_a', 'kurs', async () => page('dist_1', 'Old'));
  cache.invalidate('tenant_a', 'dist_1');
  const fresh = await cache.get('tenant_a', 'kurs', async () => page('dist_1', 'New'));
  t.equal(fresh?.title, 'New');
});

t.test('when a load started before a change finishes after it, then its result is not kept and later reads do not join it', async (t) => {
  const cache = createSlugReadCache({ ttlMs: 60_000, maxEntries: 10 });
  const gate = deferred<Distribution | null>();
  const stale = cache.get('tenant_a', 'kurs', () => gate.promise);
  cache.invalidate('tenant_a', 'dist_1');
  const afterChange = cache.get('tenant_a', 'kurs', async () => page('dist_1', 'New'));
  gate.resolve(page('dist_1', 'Old'));
  t.equal((await stale)?.title, 'Old', 'the early reader gets what it read');
  t.equal((await afterChange)?.title, 'New', 'a reader arriving after the change reads again');
  t.equal((await cache.get('tenant_a', 'kurs', async () => page('dist_1', 'Newer')))?.title, 'New', 'the fresh read is the one kept');
});

t.test('when a load started before a change finds nothing, then its reader gets null', async (t) => {
  const cache = createSlugReadCache({ ttlMs: 60_000, maxEntries: 10 });
  const gate = deferred<Distribution | null>();
  const early = cache.get('tenant_a', 'kurs', () => gate.promise);
  cache.invalidate('tenant_a', 'dist_1');
  gate.resolve(null);
  t.equal(await early, null);
});

t.test('when a load fails, then its readers get the error and the next read loads again', async (t) => {
  const cache = createSlugReadCache({ ttlMs: 60_000, maxEntries: 10 });
  await t.rejects(
    cache.get('tenant_a', 'kurs', async () => Promise.reject(new Error('database down'))),
    /database down/,
  );
  t.equal((await cache.get('tenant_a', 'kurs', async () => page('dist_1', 'Back')))?.title, 'Back');
});

t.test('when more pages are read than it may keep, then the least recently read one goes', async (t) => {
  const cache = createSlugReadCache({ ttlMs: 60_000, maxEntries: 2 });
  let loads = 0;
  const read = (slug: string) => cache.get('tenant_a', slug, async () => (loads++, { ...page(`dist_${slug}`, slug), slug }));
  for (const slug of ['a', 'b', 'c']) await read(slug);
  await read('c');
  t.equal(loads, 3, 'c is kept');
  await read('a');
  t.equal(loads, 4, 'a was dropped');
});

t.test('when a slug is not found, then nothing is kept', async (t) => {
  const cache = createSlugReadCache({ ttlMs: 60_000, maxEntries: 10 });
  t.equal(await cache.get('tenant_a', 'kurs', async () => null), null);
  t.equal((await cache.get('tenant_a', 'kurs', async () => page('dist_1', 'Created')))?.title, 'Created');
});

t.test('when tenants share a slug, then their pages are kept apart', async (t) => {
  const cache = createSlugReadCache({ ttlMs: 60_000, maxEntries: 10 });
  await cache.get('tenant_a', 'kurs', async () => page('dist_1', 'A'));
  const b = await cache.get('tenant_b', 'kurs', async () => ({ ...page('dist_2', 'B'), tenant_id: 'tenant_b' }));
  t.equal(b?.title, 'B');
});

t.test('when pages leave the cache (evicted, expired, invalidated), then its id index forgets them too', async (t) => {
  let clock = 5_000;
  const cache = createSlugReadCache({ ttlMs: 1000, maxEntries: 3, now: () => clock });
  const pageOf = (n: number) => ({ ...page(`dist_${n}`, `Kurs ${n}`), slug: `kurs-${n}` });
  for (let n = 0; n < 50; n++) await cache.get('tenant_a', `kurs-${n}`, async () => pageOf(n));
  t.strictSame(cache.size(), { pages: 3, indexed: 3 }, 'evicted pages leave the index: at most maxEntries ids');

  cache.invalidate('tenant_a', 'dist_49');
  t.strictSame(cache.size(), { pages: 2, indexed: 2 }, 'an invalidated page leaves it');

  clock += 1001;
  for (const n of [47, 48]) await cache.get('tenant_a', `kurs-${n}`, async () => null);
  t.strictSame(cache.size(), { pages: 0, indexed: 0 }, 'expired pages leave it when they are read again and found gone');
});

t.test('when a distribution is kept under a new slug and its old page is evicted, then invalidate still finds the new page', async (t) => {
  const cache = createSlugReadCache({ ttlMs: 60_000, maxEntries: 2 });
  let loads = 0;
  const renamed = { ...page('dist_1', 'Neu'), slug: 'neu' };
  await cache.get('tenant_a', 'kurs', async () => page('dist_1', 'Alt'));
  await cache.get('tenant_a', 'neu', async () => renamed);
  await cache.get('tenant_a', 'other', async () => ({ ...page('dist_2', 'Anders'), slug: 'other' })); // evicts 'kurs'
  t.strictSame(cache.size(), { pages: 2, indexed: 2 }, "the old slug's eviction left the new entry indexed");
  cache.invalidate('tenant_a', 'dist_1');
  await cache.get('tenant_a', 'neu', async () => (loads++, renamed));
  t.equal(loads, 1, 'the new page was dropped, so it is loaded again');
});
