import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import pg from 'pg';
import type { Config } from '../config.js';
import { DistributionEntity } from './entities/distribution.entity.js';
import { IdempotencyRecordEntity } from './entities/idempotency-record.entity.js';
import { CourseStagingEntity, DeadLetterEntity, ProcessedMessageEntity } from './entities/inbox.entities.js';
import { OutboxEventEntity } from './entities/outbox-event.entity.js';
import { CounterPendingEntity } from './entities/counter-pending.entity.js';
import { CourseGenerationEntity } from './entities/course-generation.entity.js';
import { migrationsList } from './migrations/index.js';
import { MIGRATION_LOCK_KEY } from './advisory-locks.js';

export type { EntityManager };
export const entities = [
  DistributionEntity,
  OutboxEventEntity,
  IdempotencyRecordEntity,
  ProcessedMessageEntity,
  DeadLetterEntity,
  CourseStagingEntity,
  CounterPendingEntity,
  CourseGenerationEntity,
];

export async function createOrm(config: Pick<Config, 'databaseUrl' | 'db'>): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: config.databaseUrl,
    entities,
    extensions: [Migrator],
    pool: { min: 0, max: config.db.poolMax },
    driverOptions: {
      // knex waits 60 s for a pooled connection by default, which hides an outage; fail fast instead (-> 503).
      acquireConnectionTimeout: config.db.acquireTimeoutMs,
      connection: { statement_timeout: config.db.statementTimeoutMs, application_name: 'course-distribution' },
    },
    migrations: {
      migrationsList,
      silent: true,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
    },
    allowGlobalContext: false,
    discovery: { warnWhenNoEntities: false },
  });
}

/**
 * Runs pending migrations while holding MIGRATION_LOCK_KEY (advisory-locks.ts) on a dedicated connection, so instances that
 * start together migrate one after the other (MikroORM takes no lock of its own). Returns the names applied.
 */
export async function migrate(orm: MikroORM, databaseUrl: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: databaseUrl, application_name: 'course-distribution-migrate' });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await orm.getMigrator().up();
    return applied.map((m) => m.name);
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}

/**
 * One connection, `select 1`, closed again: resolves when the database at `databaseUrl` answers (the start waits
 * for this before it builds the ORM), rejects with the reason otherwise (refused, unknown database, bad password).
 */
export async function pingDatabase(databaseUrl: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs, application_name: 'course-distribution-start' });
  // A connection the server ends while we wait must not become an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}
