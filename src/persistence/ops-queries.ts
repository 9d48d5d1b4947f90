/**
 * The read-only database questions of the operator endpoints `ops.health` and `ops.status`: a round trip, the
 * migration state, who holds the relay lock, the outbox backlog. None takes a lock or writes; each is one short
 * statement on a pooled connection (so it also fails fast when the pool cannot reach the database).
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Sql } from './database.js';
import { RELAY_LOCK_KEY } from './advisory-locks.js';
import { BACKLOG_SQL, toBacklog, type Backlog } from './outbox-relay-store.js';

/** Resolves when `select 1` came back. */
export async function databaseRoundTrip(db: Sql): Promise<void> {
  await db.execute('select 1');
}

export interface MigrationState {
  /** Migrations of this release the database has not run (the schema is older than the code). */
  pending: string[];
  /** Migrations the database ran that this release does not know (a newer release migrated it). */
  unknown: string[];
}

export async function readMigrationState(orm: MikroORM): Promise<MigrationState> {
  const migrator = orm.getMigrator();
  const [pending, executed] = await Promise.all([migrator.getPendingMigrations(), migrator.getExecutedMigrations()]);
  const known = new Set<string>(orm.config.get('migrations').migrationsList?.map((m) => m.name) ?? []);
  return { pending: pending.map((m) => m.name), unknown: executed.map((m) => m.name).filter((name) => !known.has(name)) };
}

/** The PostgreSQL session holding the relay's advisory lock (RELAY_LOCK_KEY), whichever instance it belongs to. */
export interface LockHolder {
  pid: number;
  applicationName: string | null;
  clientAddr: string | null;
}

/**
 * Who holds RELAY_LOCK_KEY in this database, or null when nobody does. A bigint advisory key shows in pg_locks as
 * classid = its high 32 bits, objid = its low 32 bits, objsubid = 1.
 */
export async function findRelayLockHolder(db: Sql): Promise<LockHolder | null> {
  const [row] = await db.execute<{ pid: number; application_name: string | null; client_addr: string | null }>(
    `select l.pid, a.application_name, a.client_addr::text as client_addr
       from pg_locks l left join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.objsubid = 1
        and l.database = (select oid from pg_database where datname = current_database())
        and l.classid = (?::bigint >> 32)::oid and l.objid = (?::bigint & 4294967295)::oid
      limit 1`,
    [RELAY_LOCK_KEY, RELAY_LOCK_KEY],
  );
  return row ? { pid: Number(row.pid), applicationName: row.application_name, clientAddr: row.client_addr } : null;
}

/** Unpublished outbox rows and the oldest one's age, asked on a pooled connection (any instance can ask). */
export async function readOutboxBacklog(db: Sql): Promise<Backlog> {
  const [row] = await db.execute<{ n: string; age_ms: string | null }>(BACKLOG_SQL);
  return toBacklog(row);
}
