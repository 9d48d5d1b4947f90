/**
 * Value equality for field values (strings, arrays, plain objects) by comparing canonical JSON: object keys
 * sorted at every level, array order kept (an audience list in another order is a change). Keys whose value is
 * undefined are dropped, as JSON.stringify does, so `{ url: undefined }` equals `{}`.
 */

/** The JSON text of a value with the keys of every object sorted. */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, inner: unknown) => {
      if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
      const entries = Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(entries);
    }) ?? 'undefined'
  );
}

/** Whether two values are equal as JSON documents. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
