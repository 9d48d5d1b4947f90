/**
 * What the other database-bound ratios are measured against: a transaction of three trivial statements through
 * MikroORM (fork, transactional, em.execute; the path every command and consumed event takes) vs the same through
 * raw `pg`, same concurrency, same run. No target: it is the ceiling of the others, printed so they can be read.
 */
import pg from 'pg';
import { loadConfig } from '../src/config.js';
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
  options.say(`orm_overhead: ${total} transactions of 3 trivial statements, 32 at a time, MikroORM vs raw pg`);
  const config = loadConfig({ ...process.env, DATABASE_URL: options.databaseUrl });
  const orm = await createOrm(config);
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: config.db.poolMax });
  try {
    const viaOrm = () =>
      orm.em.fork().transactional(async (em) => {
        for (const n of [1, 2, 3]) await em.execute(`select ${n}`);
      });
    const viaPg = () =>
      inRawTransaction(pool, async (client) => {
        for (const n of [1, 2, 3]) await client.query(`select ${n}`);
      });
    await measure(viaOrm, { total: 500, concurrency: 32 });
    await measure(viaPg, { total: 500, concurrency: 32 });
    const base = await measure(viaPg, { total, concurrency: 32 });
    const result = await measure(viaOrm, { total, concurrency: 32 });
    return [compare('MikroORM transaction, 3 trivial statements (32 at a time)', result, 'raw pg, same transaction', base, 0)];
  } finally {
    await orm.close(true);
    await pool.end();
  }
}
