/**
 * The README is where operators look up configuration: every key src/config.ts reads must be in it.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';

const config = readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

t.test('when config.ts reads a key, then the README documents it', async (t) => {
  // Keys are read as integer('KEY', ...), text('KEY', ...), flag('KEY', ...) and the like: upper-case string literals.
  const keys = [...new Set([...config.matchAll(/'([A-Z][A-Z0-9_]{3,})'/g)].map((m) => m[1]!))];
  t.ok(keys.length > 30, `found the keys (${keys.length})`);
  t.same(
    keys.filter((key) => !readme.includes(`\`${key}\``)),
    [],
    'every key appears in the README as `KEY`',
  );
});
