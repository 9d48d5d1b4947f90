/**
 * The database a service has after months of traffic, made once and reused: 1,000,000 processed-message rows (the
 * inbox, inside the dedup retention), 1,000,000 published outbox rows (inside the outbox retention) and 100,000
 * distributions across 100 tenants, filled with `generate_series` and analyzed. It is kept as the template
 * database FILLED_TEMPLATE; each run clones it (`create database ... template`), so the fill is paid once per
 * machine (drop the template to rebuild it, e.g. after the fill changes: the version is in its name).
 * Migrations added after the template was made are applied by the service at start, as in production.
 */
import pg from 'pg';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

export const FILLED_TEMPLATE = 'cd_bench_filled_v1';
export const FILLED = { processedMessages: 1_000_000, publishedEvents: 1_000_000, distributions: 100_000, tenants: 100 };

/** The fill tenant `n` (0-based): `tenant_000` ... `tenant_099`, 1,000 distributions each. */
export const fillTenant = (n: number) => `tenant_${String(n).padStart(3, '0')}`;

/** Distribution ids of the fill: `dist_00FILL<n>`, before every ULID the service makes (those start with 01). */
const FILL_SQL = [
  `insert into distribution (id, tenant_id, course_id, slug, language, title, description, target_group, visibility, version, seo, cta, row_version, created_at, updated_at)
   select 'dist_00FILL' || lpad(n::text, 10, '0'), 'tenant_' || lpad((n % ${FILLED.tenants})::text, 3, '0'), 'course_fill_' || n, 'fuellkurs-' || n, 'de',
          'Füllkurs ' || n || ' über Geldanlage', 'Ein Kurs aus dem Bestand, Nummer ' || n, array['private_individuals'],
          case when n % 3 = 0 then 'public' else 'private' end, 'v1',
          jsonb_build_object('meta_title', 'Füllkurs ' || n, 'meta_description', 'Ein Kurs aus dem Bestand', 'meta_keywords', jsonb_build_array('geld', 'kurs')),
          '{"label": "Jetzt einschreiben", "type": "primary_button", "url": null}', 1,
          now() - (${FILLED.distributions} - n) * interval '1 minute', now() - (${FILLED.distributions} - n) * interval '1 minute'
     from generate_series(1, ${FILLED.distributions}) as n`,
  // Message ids are random (CourseFactory's are UUIDs): inserts land all over the primary key, as in production.
  `insert into processed_message (consumer, message_id, stream, stream_seq, subject, processed_at)
   select 'distribution_consumer', 'evt_cf_' || md5(n::text), 'COURSE', n, 'course.generation.completed', now() - (${FILLED.processedMessages} - n) * interval '500 ms'
     from generate_series(1, ${FILLED.processedMessages}) as n`,
  `insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope, created_at, published_at)
   select 'evt_00FILL' || lpad(n::text, 10, '0'), 'distribution.created', 'distribution.created.' || d.id, d.id, d.tenant,
          jsonb_build_object('id', 'evt_00FILL' || lpad(n::text, 10, '0'), 'type', 'distribution.created', 'timestamp', now(),
            'payload', jsonb_build_object('distribution_id', d.id, 'course_id', 'course_fill_' || (n % ${FILLED.distributions}), 'slug', 'fuellkurs-' || n,
              'title', 'Füllkurs ' || n || ' über Geldanlage', 'language', 'de', 'target_group', jsonb_build_array('private_individuals'), 'visibility', 'private', 'version', 'v1'),
            'meta', jsonb_build_object('schema_version', '1.0', 'producer', 'course_distribution', 'source_module', 'course_distribution', 'tenant_id', d.tenant,
              'correlation_id', 'corr_' || md5(n::text), 'causation_id', 'cmd_' || md5(n::text)),
            'target', null),
          now() - (${FILLED.publishedEvents} - n) * interval '20 ms', now() - (${FILLED.publishedEvents} - n) * interval '20 ms' + interval '5 ms'
     from generate_series(1, ${FILLED.publishedEvents}) as n,
          lateral (select 'dist_00FILL' || lpad((n % ${FILLED.distributions} + 1)::text, 10, '0') as id,
                          'tenant_' || lpad(((n % ${FILLED.distributions} + 1) % ${FILLED.tenants})::text, 3, '0') as tenant) as d`,
];

/** Makes the template unless it exists; returns how long the fill took (0 when reused). */
export async function ensureFilledTemplate(admin: pg.Client, serverUrl: string, say: (line: string) => void): Promise<number> {
  const exists = await admin.query(`select 1 from pg_database where datname = $1`, [FILLED_TEMPLATE]);
  if (exists.rowCount === 1) return 0;
  const building = `${FILLED_TEMPLATE}_building`;
  say(`filling ${building} (made once, reused as ${FILLED_TEMPLATE})`);
  const started = performance.now();
  await admin.query(`drop database if exists "${building}" with (force)`);
  await admin.query(`create database "${building}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${building}`;
  // The service migrates its own schema at start.
  const app = await createApp(loadConfig({ ...process.env, DATABASE_URL: url.toString(), CONSUMER_ENABLED: 'false', RELAY_ENABLED: 'false', LOG_LEVEL: 'error' }), {
    log: pino({ level: 'error' }),
  });
  await app.start();
  await app.stop();
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    for (const sql of FILL_SQL) await client.query(sql);
    await client.query('vacuum analyze');
  } finally {
    await client.end();
  }
  await admin.query(`alter database "${building}" rename to "${FILLED_TEMPLATE}"`);
  return (performance.now() - started) / 1000;
}
