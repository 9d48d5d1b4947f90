/**
 * A database outage for one test database: new connections are refused and the open ones are terminated, as
 * when PostgreSQL goes away; `restore()` (also run at teardown) lets connections in again.
 */
import pg from 'pg';
import type { TestDatabase } from './database.js';
import { resolvePostgres } from './services.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function makeDatabaseUnavailable(t: Teardown, db: TestDatabase): Promise<{ restore(): Promise<void> }> {
  const server = await resolvePostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  const restore = async () => void (await admin.query(`alter database "${db.name}" with allow_connections true`));
  t.teardown(async () => {
    await restore().catch(() => undefined);
    await admin.end();
  });
  await admin.query(`alter database "${db.name}" with allow_connections false`);
  await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [db.name]);
  return { restore };
}
