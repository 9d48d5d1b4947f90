/**
 * `npm run bench [-- --json] [-- --only <scenario>]`: benchmarks against the local PostgreSQL and NATS (or DATABASE_URL /
 * NATS_URL). Each scenario is compared with a baseline measured in the same run, in the same process, so the
 * ratio holds on a noisy machine even when absolute figures do not. Not part of `npm test`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { Svcm } from '@nats-io/services';
import { connect } from '@nats-io/transport-node';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { commandSubject, withPrefix } from '../src/messaging/subjects.js';
import { jetstream } from '@nats-io/jetstream';
import { compare, inRawTransaction, inRounds, measure, measureInterleaved, printTable, type RawClient, type ScenarioResult } from './measure.js';
import { deleteStream, runRelayBenchmarks } from './relay.js';
import { runIngestionBenchmark } from './ingestion.js';
import { runLoggingBenchmark } from './logging.js';
import { runOrmOverheadBenchmark } from './orm-overhead.js';
import { runFilledBenchmarks } from './filled.js';
import { startCatalogueViewPeer } from './catalogue-view-peer.js';
import { newId } from '../src/app.js';

const json = process.argv.includes('--json');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const scale = Number(process.env.BENCH_SCALE ?? 1);
const say = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);

const serverUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `cd_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`create database "${dbName}"`);
const dbUrl = new URL(serverUrl);
dbUrl.pathname = `/${dbName}`;
const prefix = `bench${randomBytes(3).toString('hex')}`;
const config = loadConfig({ ...process.env, DATABASE_URL: dbUrl.toString(), NATS_SUBJECT_PREFIX: prefix, LOG_LEVEL: 'error', CONSUMER_ENABLED: 'false' });
const app = await createApp(config, { log: pino({ level: 'error' }) });
await app.start();
// The load comes from its own connection, as a real caller's would; noAsyncTraces keeps the client's own cost low.
const nc = await connect({ servers: config.nats.url, noAsyncTraces: true });
const tenant = 'bench';
const subject = (op: string) => commandSubject(prefix, tenant, op);
const request = async (op: string, body: unknown) => {
  const msg = await nc.request(subject(op), JSON.stringify(body), { timeout: 30_000 });
  if (msg.headers?.get('Nats-Service-Error-Code')) throw new Error(msg.string());
  return msg.json<Record<string, unknown>>();
};

// The baseline endpoint: same services framework, same connection, does nothing.
const noopService = await new Svcm(app.nc).add({ name: 'bench_noop', version: '0.0.1', queue: 'bench_noop' });
noopService.addEndpoint('noop', { subject: `${prefix}.noop`, handler: (_err, msg) => void msg.respond('{}') });
const noop = () => nc.request(`${prefix}.noop`, '{}', { timeout: 30_000 });

const results: ScenarioResult[] = [];
const run = (name: string) => !only || only === name;

try {
  const ids: string[] = [];
  const slugs: string[] = [];
  for (let i = 0; i < 50; i++) {
    const d = await request('create', { course_id: `course_${i}`, title: `Benchmark Kurs ${i}`, language: 'de' });
    ids.push(d.id as string);
    slugs.push(d.slug as string);
  }
  const inFlight = 100;
  const total = Math.round(20_000 * scale);
  await measure(() => noop(), { total: 2_000, concurrency: inFlight }); // warm-up
  await measure((i) => request('log_view', { id: ids[i % ids.length] }), { total: 2_000, concurrency: inFlight });

  if (run('log_view')) {
    // The peer: the catalogue's design (one UPDATE and one direct js.publish per view) on the same connection and pool.
    const peer = await startCatalogueViewPeer({ nc: app.nc, db: app.deps.db, subjectPrefix: prefix, newId });
    const peerView = async (i: number) => {
      const msg = await nc.request(peer.subject, JSON.stringify({ id: ids[i % ids.length], referrer_category: 'organic_search' }), { timeout: 30_000 });
      if (msg.headers?.get('Nats-Service-Error-Code')) throw new Error(msg.string());
    };
    try {
      await measure(peerView, { total: 1_000, concurrency: inFlight }); // warm-up
      say(`log_view: ${total} requests, ${inFlight} in flight over ${ids.length} distributions, vs the no-op endpoint and vs the catalogue's design (5 interleaved rounds)`);
      const measured = await measureInterleaved(
        { base: () => noop(), result: (i) => request('log_view', { id: ids[i % ids.length], referrer_category: 'organic_search' }), catalogue: peerView },
        { total, concurrency: inFlight, rounds: 5 },
      );
      const { base, result, catalogue } = measured;
      results.push(compare('log_view (100 in flight)', result, 'no-op endpoint, same framework', base, 0.5));
      results.push(compare('log_view (100 in flight)', result, "catalogue's design: UPDATE + js.publish per view", catalogue, 3));
    } finally {
      await peer.stop();
    }
  }
  if (run('get_by_slug')) {
    say(`get_by_slug: ${total} requests, ${inFlight} in flight, vs the no-op endpoint`);
    const base = await measure(() => noop(), { total, concurrency: inFlight });
    const result = await measure((i) => request('get_by_slug', { slug: slugs[i % slugs.length] }), { total, concurrency: inFlight });
    results.push(compare('get_by_slug (100 in flight)', result, 'no-op endpoint, same framework', base, 0.5));
  }
  if (run('create')) {
    const creates = Math.round(4_000 * scale);
    const concurrency = 16;
    const rounds = 3;
    say(`create: ${creates} requests, ${concurrency} in flight, vs raw pg (row + outbox row in one transaction) and the catalogue's design, ${rounds} rounds`);
    const pool = new pg.Pool({ connectionString: dbUrl.toString(), max: config.db.poolMax });
    const envelope = JSON.stringify({ type: 'distribution.created', payload: { title: 'x'.repeat(40) }, meta: { tenant_id: tenant } });
    const insertRow = (client: RawClient | pg.Pool, id: string, i: number, tenantId: string) =>
      client.query(
        `insert into distribution (id, tenant_id, course_id, slug, language, title, description, target_group, visibility, version, seo, cta, created_at, updated_at)
         values ($1, $2, $3, $4, 'de', $5, '', '{}', 'private', 'v1', '{}', $6, now(), now())`,
        [id, tenantId, `course_${i}`, `${tenantId}-${id.toLowerCase().replace(/_/g, '-')}`, `Raw ${i}`, '{"label":"x","type":"primary_button"}'],
      );
    const rawInsert = (i: number) =>
      inRawTransaction(pool, async (client) => {
        const id = `dist_raw${i}${randomBytes(6).toString('hex')}`;
        await insertRow(client, id, i, 'raw');
        await client.query(`insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope) values ($1, 'distribution.created', $2, $3, 'raw', $4)`, [
          `evt_${id}`,
          `distribution.created.${id}`,
          id,
          envelope,
        ]);
      });
    // The catalogue's design as a service on the same framework: insert the row (its own transaction), then publish
    // distribution.created straight to JetStream (msgID, PubAck awaited) and reply; no outbox.
    const js = jetstream(app.nc);
    noopService.addEndpoint('catalogue_create', {
      subject: `${prefix}.catalogue_create`,
      handler: (_err, msg) => {
        void (async () => {
          const body = msg.json<{ course_id: string; title: string }>();
          const id = `dist_cat${randomBytes(8).toString('hex')}`;
          await insertRow(pool, id, Number(body.course_id.replace(/\D/g, '')), 'catalogue');
          await js.publish(withPrefix(prefix, `distribution.created.${id}`), envelope, { msgID: `evt_${id}` });
          msg.respond(JSON.stringify({ id }));
        })().catch((err: Error) => msg.respondError(500, err.message));
      },
    });
    const catalogueCreate = (i: number) => nc.request(`${prefix}.catalogue_create`, JSON.stringify({ course_id: `course_k${i}`, title: `Katalog ${i}` }), { timeout: 30_000 });
    const serviceCreate = (i: number) => request('create', { course_id: `course_c${i % 100}`, title: `Neuer Kurs über Geldanlage ${i}`, language: 'de' });
    await measure(rawInsert, { total: 500, concurrency });
    await measure(serviceCreate, { total: 500, concurrency });
    await measure((i) => catalogueCreate(i + 1_000_000), { total: 500, concurrency });
    const perRound = Math.ceil(creates / rounds);
    const [base, result, catalogue] = await inRounds(
      [
        (round) => measure((i) => rawInsert((round + 1) * 1_000_000 + i), { total: perRound, concurrency }),
        (round) => measure((i) => serviceCreate((round + 1) * 1_000_000 + i), { total: perRound, concurrency }),
        (round) => measure((i) => catalogueCreate((round + 2) * 1_000_000 + i), { total: perRound, concurrency }),
      ],
      rounds,
    );
    await pool.end();
    results.push(compare('create (16 in flight)', result!, 'raw pg: row + outbox row, one transaction', base!, 0.8));
    results.push(compare('create (16 in flight)', result!, "the catalogue's design: insert, then js.publish after the commit (no outbox), same framework", catalogue!, 1));
  }
  results.push(...(await runLoggingBenchmark({ serverUrl, scale, say, run })));
  results.push(...(await runRelayBenchmarks({ serverUrl, scale, say, run })));
  results.push(...(await runIngestionBenchmark({ serverUrl, scale, say, run })));
  results.push(...(await runOrmOverheadBenchmark({ databaseUrl: dbUrl.toString(), scale, say, run })));
  results.push(...(await runFilledBenchmarks({ serverUrl, scale, say, run })));
} finally {
  await noopService.stop();
  await nc.drain();
  await app.stop();
  await deleteStream(config.nats.url, config.stream.name); // the app's relay provisioned it under the bench prefix
  await admin.query(`drop database if exists "${dbName}" with (force)`);
  await admin.end();
}

if (json) process.stdout.write(`${JSON.stringify(results)}\n`);
else printTable(results);
