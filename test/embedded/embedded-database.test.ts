/**
 * The embedded database's directory (src/embedded/embedded-database.ts): created on the first start, reopened
 * with its data later, and never opened by two live processes at once.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import t from 'tap';
import { EmbeddedDatabaseError, startEmbeddedDatabase } from '../../src/embedded/embedded-database.js';

const log = pino({ level: 'silent' });

function tempDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'cd-embedded-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'pglite');
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

t.test('when another live process holds the directory, then the start is refused naming that process', async (t) => {
  const dataDir = tempDir(t);
  writeFileSync(`${dataDir}.lock`, String(process.ppid));
  await t.rejects(startEmbeddedDatabase({ dataDir, log }), EmbeddedDatabaseError);
  await t.rejects(startEmbeddedDatabase({ dataDir, log }), { message: new RegExp(`in use by process ${process.ppid}.*DATABASE_URL`) });
  t.notOk(existsSync(join(dataDir, 'PG_VERSION')), 'and nothing was created');
});

t.test('when the directory is new, then it is created; when started again, then its data is there', async (t) => {
  const dataDir = tempDir(t);
  writeFileSync(`${dataDir}.lock`, '999999999'); // left by a process that is gone: taken over
  const first = await startEmbeddedDatabase({ dataDir, log });
  t.equal(first.created, true, 'the first start creates the database');
  await query(first.url, 'create table kept (v text); insert into kept values (1)');
  t.equal(existsSync(`${dataDir}.lock`), true, 'the directory is locked while it runs');
  await first.stop();
  t.equal(existsSync(`${dataDir}.lock`), false, 'and released at stop');

  const second = await startEmbeddedDatabase({ dataDir, log });
  t.teardown(() => second.stop());
  t.equal(second.created, false, 'a later start opens the existing files');
  t.same(await query(second.url, 'select v from kept'), [{ v: '1' }], 'with the data written before');
});
