/**
 * Ingestion benchmark, called by bench/run.ts: `course.generation.completed` events (5,000) taken by the service's
 * consumer as deployed (decode, validate, batches of CONSUMER_BATCH_SIZE: one transaction claims the batch, creates
 * the distributions and their outbox rows; ack after the commit) vs, in the same run on the same schema:
 * - raw `pg` doing the dedup + insert + outbox transaction per event, 32 at a time (target >= 1: batching beats
 *   per-event transactions);
 * - the catalogue's own design (its pseudo-code): SELECT EXISTS in the dedup table, insert, insert the dedup row,
 *   three statements with no shared transaction, no outbox, consuming the same backlog 32 at a time (target >= 1).
 * The events are published first (a backlog); the service's figure runs from its first claim to its last.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { withPrefix } from '../src/messaging/subjects.js';
import { compare, inRawTransaction, inRounds, measure, type Measurement, type RawClient, type ScenarioResult } from './measure.js';

export interface IngestionBenchOptions {
  serverUrl: string;
  scale: number;
  say: (line: string) => void;
  run: (scenario: string) => boolean;
}

const CONCURRENCY = 32;

/** A course.generation.completed envelope of course `course_ingest_<i>` in tenant `bench`. */
export function courseEvent(i: number) {
  return {
    id: `evt_cf_${randomUUID()}`,
    type: 'course.generation.completed',
    timestamp: new Date().toISOString(),
    payload: {
      course_id: `course_ingest_${i}`,
      tenant_id: 'bench',
      title: `Ingestion Kurs Nummer ${i} über Geldanlage`,
      description: 'Ein praxisnaher Grundlagenkurs über Neobanken, FinTechs und Krypto-Wallets.',
      language: 'de',
      target_audiences: ['private_individuals'],
      total_lessons: 12,
      completed_at: new Date().toISOString(),
    },
    meta: { schema_version: '1.0', producer: 'course_factory', source_module: 'course_factory', tenant_id: 'bench', correlation_id: `req_${i}`, causation_id: null },
    target: null,
  };
}

async function scratchDatabase(admin: pg.Client, serverUrl: string, template?: string): Promise<{ name: string; url: string }> {
  const name = `cd_bench_ingest_${randomBytes(4).toString('hex')}`;
  await admin.query(`create database "${name}"${template ? ` template "${template}"` : ''}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** Rounds of each contender (rotating who goes first): a shared machine's drift falls on all three alike. */
const ROUNDS = 4;

/**
 * One round of the service's consumer taking `count` events of the backlog on the stream: from its first claim of
 * the round to its `count`th, by the database's clock (claims carry their transaction's start time), so the
 * service's start is not part of it. The probe counts only this round's claims (processed_at index).
 */
async function serviceRound(config: Config, databaseUrl: string, count: number): Promise<Measurement> {
  const probe = new pg.Client({ connectionString: databaseUrl });
  await probe.connect();
  try {
    const since = (await probe.query<{ now: Date }>('select clock_timestamp() as now')).rows[0]!.now;
    const app = await createApp(config, { log: pino({ level: 'error' }) });
    await app.start();
    let row: { n: number; seconds: number } | undefined;
    for (;;) {
      row = (
        await probe.query<{ n: number; seconds: number }>(
          `select count(*)::int as n, extract(epoch from clock_timestamp() - min(processed_at))::float8 as seconds from processed_message where processed_at >= $1`,
          [since],
        )
      ).rows[0];
      if ((row?.n ?? 0) >= count) break;
      await sleep(5);
    }
    await app.stop();
    return { ops: row!.n, errors: 0, seconds: row!.seconds, opsPerSecond: row!.n / row!.seconds, p50Ms: 0, p99Ms: 0 };
  } finally {
    await probe.end();
  }
}

/**
 * One round of the catalogue's own design (its pseudo-code), as a peer: a JetStream consumer that, per message,
 * asks `SELECT EXISTS` in the dedup table, inserts the distribution, inserts the dedup row (three statements, each
 * its own transaction, no outbox), then acks; CONCURRENCY messages at a time, `count` messages.
 */
async function catalogueRound(nc: NatsConnection, streamName: string, pool: pg.Pool, count: number): Promise<Measurement> {
  const started = performance.now();
  let dispatched = 0;
  const messages = await (await jetstream(nc).consumers.get(streamName, CATALOGUE_DURABLE)).consume({ max_messages: 64 });
  const inFlight = new Set<Promise<void>>();
  const handle = async (m: JsMsg) => {
    const event = m.json<ReturnType<typeof courseEvent>>();
    const seen = await pool.query(`select exists (select 1 from processed_message where consumer = 'catalogue' and message_id = $1) as seen`, [event.id]);
    if (!seen.rows[0].seen) {
      const id = `dist_cat${randomBytes(8).toString('hex')}`;
      await pool.query(
        `insert into distribution (id, tenant_id, course_id, slug, language, title, description, target_group, visibility, version, seo, cta, created_at, updated_at)
         values ($1, 'bench', $2, $3, 'de', $4, $5, $6, 'private', 'v1', $7, $8, now(), now())`,
        [
          id,
          event.payload.course_id,
          `katalog-${id}`,
          event.payload.title,
          event.payload.description,
          event.payload.target_audiences,
          '{"meta_title":"x"}',
          '{"label":"x","type":"primary_button"}',
        ],
      );
      await pool.query(`insert into processed_message (consumer, message_id, stream, stream_seq, subject) values ('catalogue', $1, $2, $3, $4) on conflict do nothing`, [
        event.id,
        m.info.stream,
        m.info.streamSequence,
        m.subject,
      ]);
    }
    m.ack();
  };
  for await (const m of messages) {
    if (dispatched >= count) {
      m.nak(); // pulled past this round: back to the stream for the next one
      continue;
    }
    while (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
    const settling: Promise<void> = handle(m).finally(() => inFlight.delete(settling));
    inFlight.add(settling);
    if (++dispatched >= count) messages.stop();
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  return { ops: count, errors: 0, seconds, opsPerSecond: count / seconds, p50Ms: 0, p99Ms: 0 };
}

const CATALOGUE_DURABLE = 'catalogue_peer';

export async function runIngestionBenchmark(options: IngestionBenchOptions): Promise<ScenarioResult[]> {
  if (!options.run('ingestion')) return [];
  const total = Math.round(5_000 * options.scale);
  const perRound = Math.ceil(total / ROUNDS);
  options.say(
    `ingestion: ${total} course.generation.completed events: the service's consumer vs raw pg (dedup + insert + outbox per event) and the catalogue's design, ${ROUNDS} rounds`,
  );
  const admin = new pg.Client({ connectionString: options.serverUrl });
  await admin.connect();
  const prefix = `benchin${randomBytes(3).toString('hex')}`;
  const serviceDb = await scratchDatabase(admin, options.serverUrl);
  let peerDb: { name: string; url: string } | undefined;
  // The service as deployed: its default consumer settings (CONSUMER_CONCURRENCY messages in hand, batches of
  // CONSUMER_BATCH_SIZE), unless the environment sets them.
  const config = loadConfig({ ...process.env, DATABASE_URL: serviceDb.url, NATS_SUBJECT_PREFIX: prefix, LOG_LEVEL: 'error', RELAY_ENABLED: 'false' });
  const nc = await connect({ servers: config.nats.url, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  let pool: pg.Pool | undefined;
  try {
    // The schema, migrated by the service, and a copy of it for the baselines.
    const migrating = await createApp({ ...config, consumer: { ...config.consumer, enabled: false } }, { log: pino({ level: 'error' }) });
    await migrating.start();
    await migrating.stop();
    peerDb = await scratchDatabase(admin, options.serverUrl, serviceDb.name);
    pool = new pg.Pool({ connectionString: peerDb.url, max: config.db.poolMax });

    // The backlog: enough that the service (which pulls ahead of what a round counts) never runs dry.
    await jsm.streams.add({ name: config.consumer.streamName, subjects: [withPrefix(prefix, 'course.>')], storage: StorageType.File, retention: RetentionPolicy.Limits });
    await jsm.consumers.add(config.consumer.streamName, { durable_name: CATALOGUE_DURABLE, ack_policy: AckPolicy.Explicit, max_ack_pending: 1000 });
    const js = jetstream(nc);
    const events = Array.from({ length: total * 2 }, (_, i) => courseEvent(i));
    for (let i = 0; i < events.length; i += 500) {
      await Promise.all(events.slice(i, i + 500).map((e) => js.publish(withPrefix(prefix, e.type), JSON.stringify(e), { msgID: e.id })));
    }

    const rawEvent = (client: RawClient, i: number) => rawIngestion(client, events[i]!, i);
    const [service, raw, catalogue] = await inRounds(
      [
        () => serviceRound(config, serviceDb.url, perRound),
        (round) => measure((i) => inRawTransaction(pool!, (client) => rawEvent(client, round * perRound + i)), { total: perRound, concurrency: CONCURRENCY }),
        () => catalogueRound(nc, config.consumer.streamName, pool!, perRound),
      ],
      ROUNDS,
    );

    const scenario = `ingestion (${total} generation events; batches of ${config.consumer.batchSize}, ${config.consumer.concurrency} in hand)`;
    return [
      compare(scenario, service!, `raw pg: dedup + insert + outbox, one transaction per event, ${CONCURRENCY} at a time`, raw!, 1),
      compare(scenario, service!, `the catalogue's design: SELECT EXISTS + insert + dedup insert, no shared transaction, ${CONCURRENCY} at a time`, catalogue!, 1),
    ];
  } finally {
    await pool?.end();
    await jsm.streams.delete(config.consumer.streamName).catch(() => undefined);
    await nc.close();
    await admin.query(`drop database if exists "${serviceDb.name}" with (force)`);
    if (peerDb) await admin.query(`drop database if exists "${peerDb.name}" with (force)`);
    await admin.end();
  }
}

/** The raw baseline's transaction for one event: dedup claim, distribution, outbox row. */
async function rawIngestion(client: RawClient, event: ReturnType<typeof courseEvent>, i: number): Promise<void> {
  const claimed = await client.query(
    `insert into processed_message (consumer, message_id, stream, stream_seq, subject) values ('raw', $1, 'COURSE', $2, 'course.generation.completed') on conflict do nothing returning message_id`,
    [event.id, i + 1],
  );
  if (claimed.rowCount !== 1) return;
  const id = `dist_raw${randomBytes(8).toString('hex')}`;
  await client.query(
    `insert into distribution (id, tenant_id, course_id, slug, language, title, description, target_group, visibility, version, seo, cta, created_at, updated_at)
     values ($1, 'bench', $2, $3, 'de', $4, $5, $6, 'private', 'v1', $7, $8, now(), now())`,
    [
      id,
      event.payload.course_id,
      `ingestion-kurs-${i}`,
      event.payload.title,
      event.payload.description,
      event.payload.target_audiences,
      '{"meta_title":"x"}',
      '{"label":"x","type":"primary_button"}',
    ],
  );
  await client.query(`insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope) values ($1, 'distribution.created', $2, $3, 'bench', $4)`, [
    `evt_${id}`,
    `distribution.created.${id}`,
    id,
    JSON.stringify({ ...event, type: 'distribution.created' }),
  ]);
}
