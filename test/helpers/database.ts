/**
 * One PostgreSQL database per test file, so files run in parallel without seeing each other's rows.
 * The database is created empty and dropped (with its connections) when the test file ends.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { resolvePostgres } from './services.js';

export interface TestDatabase {
  /** Connection URL of the new, empty database. */
  url: string;
  name: string;
  /** Runs one statement on the test database (a pooled connection). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function createTestDatabase(t: Teardown): Promise<TestDatabase> {
  const server = await resolvePostgres();
  const name = `cd_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  // Tests that cut connections (outages, the final drop ... with (force)) must not crash the file through an
  // idle client's 'error' event; the next query reconnects.
  pool.on('error', () => undefined);

  t.teardown(async () => {
    await pool.end();
    const cleanup = new pg.Client({ connectionString: server.url });
    await cleanup.connect();
    try {
      await cleanup.query(`drop database if exists "${name}" with (force)`);
    } finally {
      await cleanup.end();
    }
  });
  return { url: url.toString(), name, query: (sql, params) => pool.query(sql, params as unknown[]) };
}

/**
 * Makes the test database unreachable (`allow_connections false`, every open connection terminated) until the
 * returned `restore()`; restored when the test ends anyway.
 */
export async function cutDatabase(t: Teardown, db: TestDatabase): Promise<{ restore(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: (await resolvePostgres()).url });
  await admin.connect();
  let restored: Promise<void> | undefined;
  const restore = () =>
    (restored ??= (async () => {
      await admin.query(`alter database "${db.name}" with allow_connections true`);
      await admin.end();
    })());
  t.teardown(() => restore().catch(() => undefined));
  await admin.query(`alter database "${db.name}" with allow_connections false`);
  await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [db.name]);
  return { restore };
}
