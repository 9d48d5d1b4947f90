/**
 * Costs that stay flat as data grows: `create`, `get_by_slug`, `list` (page 50), ingestion and the relay drain,
 * each on a database filled like one after months of traffic (filled-database.ts: 1M inbox rows, 1M published
 * outbox rows, 100k distributions in 100 tenants) vs the same on an empty database, in the same run. Both sides
 * run the same service with the same settings; the request scenarios alternate between the sides in rounds
 * (empty first, then filled first), so drift of a shared machine falls on both alike. Target: every ratio >= 0.8.
 * The retentions are set far out so the fill stays inside them however old the template is (the cleanups then
 * find nothing to delete, as in a service that keeps up).
 */
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { pino } from 'pino';
import { createApp, newId, type App } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { commandSubject, withPrefix } from '../src/messaging/subjects.js';
import { ensureFilledTemplate, fillTenant, FILLED, FILLED_TEMPLATE } from './filled-database.js';
import { courseEvent, type IngestionBenchOptions } from './ingestion.js';
import { compare, measure, merged, type Measurement, type ScenarioResult } from './measure.js';
import { deleteStream, drainOutbox, writeOutboxBacklog } from './relay.js';

const RETENTIONS = { DEDUP_RETENTION_HOURS: String(24 * 365), OUTBOX_RETENTION_HOURS: String(24 * 365) };
const TENANT = fillTenant(1);

interface Side {
  kind: 'empty' | 'filled';
  database: string;
  url: string;
  prefix: string;
  config: Config;
  app?: App;
}

async function openSide(admin: pg.Client, serverUrl: string, kind: Side['kind']): Promise<Side> {
  const database = `cd_bench_${kind}_${randomBytes(4).toString('hex')}`;
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const prefix = `bench${kind}${randomBytes(3).toString('hex')}`;
  // The configuration first: a bad one must not leave a database behind.
  const config = loadConfig({ ...process.env, ...RETENTIONS, DATABASE_URL: url.toString(), NATS_SUBJECT_PREFIX: prefix, LOG_LEVEL: 'error', CONSUMER_ENABLED: 'false' });
  await admin.query(`create database "${database}"${kind === 'filled' ? ` template "${FILLED_TEMPLATE}"` : ''}`);
  return { kind, database, url: url.toString(), prefix, config };
}

/** Events/s of the service's consumer taking a backlog of `total` generation events (first claim to last claim, by the database's clock). */
async function ingest(nc: NatsConnection, side: Side, total: number, offset: number): Promise<Measurement> {
  const prefix = `${side.prefix}i${offset}`;
  const config = loadConfig({
    ...process.env,
    ...RETENTIONS,
    DATABASE_URL: side.url,
    NATS_SUBJECT_PREFIX: prefix,
    LOG_LEVEL: 'error',
    RELAY_ENABLED: 'false',
  });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: config.consumer.streamName, subjects: [withPrefix(prefix, 'course.>')], storage: StorageType.File, retention: RetentionPolicy.Limits });
  const probe = new pg.Client({ connectionString: side.url });
  await probe.connect();
  try {
    const js = jetstream(nc);
    const events = Array.from({ length: total }, (_, i) => courseEvent(offset + i));
    for (let i = 0; i < events.length; i += 500) {
      await Promise.all(events.slice(i, i + 500).map((e) => js.publish(withPrefix(prefix, e.type), JSON.stringify(e), { msgID: e.id })));
    }
    const since = (await probe.query<{ now: Date }>('select now()')).rows[0]!.now;
    const app = await createApp(config, { log: pino({ level: 'error' }) });
    await app.start();
    // Counts only this round's claims (processed_at index), never the million rows of the fill.
    let row: { n: number; seconds: number } | undefined;
    for (;;) {
      row = (
        await probe.query<{ n: number; seconds: number }>(
          `select count(*)::int as n, extract(epoch from clock_timestamp() - min(processed_at))::float8 as seconds from processed_message where processed_at >= $1`,
          [since],
        )
      ).rows[0];
      if ((row?.n ?? 0) >= total) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await app.stop();
    const seconds = row!.seconds;
    return { ops: total, errors: 0, seconds, opsPerSecond: total / seconds, p50Ms: 0, p99Ms: 0 };
  } finally {
    await probe.end();
    await jsm.streams.delete(config.consumer.streamName).catch(() => undefined);
  }
}

/** Rows/s of the relay draining `total` unpublished rows (1,000 distributions). */
async function drain(nc: NatsConnection, side: Side, total: number, template: Record<string, any>): Promise<Measurement> {
  const envelopes = Array.from({ length: total }, (_, i) => {
    const distributionId = `dist_${String(i % 1000).padStart(26, '0')}`;
    return { ...template, id: newId('evt'), payload: { ...template.payload, distribution_id: distributionId } };
  });
  await writeOutboxBacklog(side.url, envelopes);
  const { seconds, status } = await drainOutbox(side.url, jetstream(nc), side.config);
  return { ops: total, errors: status.failed_publishes_total, seconds, opsPerSecond: total / seconds, p50Ms: 0, p99Ms: 0 };
}

export async function runFilledBenchmarks(options: IngestionBenchOptions): Promise<ScenarioResult[]> {
  if (!options.run('filled')) return [];
  const admin = new pg.Client({ connectionString: options.serverUrl });
  await admin.connect();
  const filledIn = await ensureFilledTemplate(admin, options.serverUrl, options.say);
  const n = (count: number) => Math.max(100, Math.round(count * options.scale));
  options.say(
    `filled: ${FILLED.processedMessages} inbox rows, ${FILLED.publishedEvents} published outbox rows, ${FILLED.distributions} distributions in ${FILLED.tenants} tenants` +
      ` vs an empty database${filledIn > 0 ? ` (filled in ${filledIn.toFixed(0)} s)` : ' (template reused)'}`,
  );
  const sides: Side[] = [];
  const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', noAsyncTraces: true });
  const results: ScenarioResult[] = [];
  try {
    for (const kind of ['empty', 'filled'] as const) sides.push(await openSide(admin, options.serverUrl, kind));
    for (const side of sides) {
      side.app = await createApp(side.config, { log: pino({ level: 'error' }) });
      await side.app.start();
    }
    const request = async (side: Side, op: string, body: unknown) => {
      const msg = await nc.request(commandSubject(side.prefix, TENANT, op), JSON.stringify(body), { timeout: 30_000 });
      if (msg.headers?.get('Nats-Service-Error-Code')) throw new Error(msg.string());
      return msg.json<Record<string, any>>();
    };
    const slugs = new Map<Side, string[]>();
    for (const side of sides) {
      const created = [];
      for (let i = 0; i < 60; i++) created.push(await request(side, 'create', { course_id: `course_read_${i}`, title: `Lesekurs ${i} über Geldanlage`, language: 'de' }));
      slugs.set(
        side,
        created.map((d) => d.slug as string),
      );
    }
    let next = 0;
    const scenarios: Array<{ name: string; total: number; concurrency: number; op: (side: Side) => (i: number) => Promise<unknown> }> = [
      {
        name: 'create (16 in flight)',
        total: n(2000),
        concurrency: 16,
        op: (side) => () => request(side, 'create', { course_id: `course_c${next % 100}`, title: `Neuer Kurs über Geldanlage ${next++}`, language: 'de' }),
      },
      { name: 'get_by_slug (100 in flight)', total: n(10_000), concurrency: 100, op: (side) => (i) => request(side, 'get_by_slug', { slug: slugs.get(side)![i % 60] }) },
      { name: 'list, page of 50 (16 in flight)', total: n(3000), concurrency: 16, op: (side) => () => request(side, 'list', { limit: 50 }) },
    ];
    for (const scenario of scenarios) {
      options.say(`filled: ${scenario.name}, ${scenario.total} requests per side`);
      const rounds = new Map<Side, Measurement[]>(sides.map((side) => [side, []]));
      for (const side of sides) await measure(scenario.op(side), { total: Math.ceil(scenario.total / 10), concurrency: scenario.concurrency }); // warm-up
      for (let round = 0; round < 2; round++) {
        for (const side of round === 0 ? sides : [...sides].reverse()) {
          rounds.get(side)!.push(await measure(scenario.op(side), { total: Math.ceil(scenario.total / 2), concurrency: scenario.concurrency }));
        }
      }
      results.push(compare(`filled: ${scenario.name}`, merged(rounds.get(sides[1]!)!), 'the same on an empty database', merged(rounds.get(sides[0]!)!), 0.8));
    }
    const [template] = await sides[0]!.app!.deps.db.execute<{ envelope: Record<string, any> }>(`select envelope from outbox_event order by id desc limit 1`);
    for (const side of sides) {
      await side.app!.stop();
      side.app = undefined;
    }

    const events = n(3000);
    options.say(`filled: ingestion of ${events} generation events per side`);
    const ingestions = new Map<Side, Measurement[]>(sides.map((side) => [side, []]));
    for (let round = 0; round < 2; round++) {
      for (const side of round === 0 ? sides : [...sides].reverse()) ingestions.get(side)!.push(await ingest(nc, side, Math.ceil(events / 2), 1_000_000 * (round + 1)));
    }
    results.push(compare(`filled: ingestion of ${events} events`, merged(ingestions.get(sides[1]!)!), 'the same on an empty database', merged(ingestions.get(sides[0]!)!), 0.8));

    const rows = n(10_000);
    options.say(`filled: relay drain of ${rows} rows per side`);
    const drains = new Map<Side, Measurement[]>(sides.map((side) => [side, []]));
    for (let round = 0; round < 2; round++) {
      for (const side of round === 0 ? sides : [...sides].reverse()) drains.get(side)!.push(await drain(nc, side, Math.ceil(rows / 2), template!.envelope));
    }
    results.push(compare(`filled: relay drains ${rows} rows`, merged(drains.get(sides[1]!)!), 'the same on an empty database', merged(drains.get(sides[0]!)!), 0.8));
    return results;
  } finally {
    for (const side of sides) {
      await side.app?.stop();
      await deleteStream(side.config.nats.url, side.config.stream.name);
      await admin.query(`drop database if exists "${side.database}" with (force)`);
    }
    await nc.close();
    await admin.end();
  }
}
