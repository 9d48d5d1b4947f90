import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { migrationsList } from '../../src/persistence/migrations/index.js';
import { createOrm, migrate } from '../../src/persistence/orm.js';
import { createTestDatabase } from '../helpers/database.js';

t.test('when three instances start on a fresh database at once, then the migrations run exactly once, under the lock', async (t) => {
  const db = await createTestDatabase(t);
  const config = loadConfig({ DATABASE_URL: db.url, DB_POOL_MAX: '2' });
  const orms = await Promise.all([1, 2, 3].map(() => createOrm(config)));
  t.teardown(() => Promise.all(orms.map((orm) => orm.close(true))));
  const applied = await Promise.all(orms.map((orm) => migrate(orm, db.url)));
  t.equal(applied.flat().length, migrationsList.length, `each of the ${migrationsList.length} migrations applied once in all`);
  t.ok(applied.filter((names) => names.length === 0).length === 2, 'the two instances that waited found nothing left to do');
  const { rows } = await db.query(`select count(*)::int as n from mikro_orm_migrations`);
  t.equal(rows[0]!.n, migrationsList.length);
});

t.test('when the migrations have run, then the entities describe the database exactly (MikroORM finds nothing to change)', async (t) => {
  const db = await createTestDatabase(t);
  const orm = await createOrm(loadConfig({ DATABASE_URL: db.url }));
  t.teardown(() => orm.close(true));
  await migrate(orm, db.url);
  t.equal((await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim(), '', 'entities and migrations agree');
});
