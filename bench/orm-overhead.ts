/**
 * What the other database-bound ratios are measured against: a transaction of three trivial statements through
 * MikroORM's unit of work (fork, transactional, em.execute) and through the service's own transaction on
 * MikroORM's pool (persistence/database.ts: the path every command and consumed event takes), each vs the same
 * through raw `pg`, same concurrency, same run. No target for the first: it is the reference.
 */
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/persistence/database.js';
import { createOrm } from '../src/persistence/orm.js';
import { compare, inRawTransaction, measure, type ScenarioResult } from './measure.js';

export async function runOrmOverheadBenchmark(options: {
  databaseUrl: string;
  scale: number;
  say: (line: string) => void;
  run: (name: string) => boolean;
}): Promise<ScenarioResult[]> {
  if (!options.run('orm_overhead')) return [];
  const total = Math.round(5_000 * options.scale);
  options.say(`orm_overhead: ${total} transactions of 3 trivial statements, 32 at a time, MikroORM and the service's transaction vs raw pg`);
  const config = loadConfig({ ...process.env, DATABASE_URL: options.databaseUrl });
  const orm = await createOrm(config);
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: config.db.poolMax });
  try {
    const viaOrm = () =>
      orm.em.fork().transactional(async (em) => {
        for (const n of [1, 2, 3]) await em.execute(`select ${n}`);
      });
    const db = createDatabase(orm);
    const viaDatabase = () =>
      db.transaction(async (tx) => {
        for (const n of [1, 2, 3]) await tx.execute(`select ${n}`);
      });
    const viaPg = () =>
      inRawTransaction(pool, async (client) => {
        for (const n of [1, 2, 3]) await client.query(`select ${n}`);
      });
    await measure(viaOrm, { total: 500, concurrency: 32 });
    await measure(viaDatabase, { total: 500, concurrency: 32 });
    await measure(viaPg, { total: 500, concurrency: 32 });
    const base = await measure(viaPg, { total, concurrency: 32 });
    const unitOfWork = await measure(viaOrm, { total, concurrency: 32 });
    const ours = await measure(viaDatabase, { total, concurrency: 32 });
    return [
      compare('MikroORM transaction, 3 trivial statements (32 at a time)', unitOfWork, 'raw pg, same transaction', base, 0),
      compare('service transaction on the ORM pool, 3 trivial statements (32 at a time)', ours, 'raw pg, same transaction', base, 0.9),
    ];
  } finally {
    await orm.close(true);
    await pool.end();
  }
}
