/**
 * Ingestion benchmark, called by bench/run.ts: 5,000 `course.generation.completed` events consumed by the service
 * (decode, validate, mailbox, one transaction: claim + insert distribution + outbox, ack) vs raw `pg` doing the same
 * dedup + insert + outbox transaction per event, at the same concurrency, in the same run. The events are published
 * first (a backlog), then the consumer starts; the figure is events/s from consumer start to the last claim.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { withPrefix } from '../src/messaging/subjects.js';
import { inRawTransaction, measure, type ScenarioResult } from './measure.js';

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

export async function runIngestionBenchmark(options: IngestionBenchOptions): Promise<ScenarioResult[]> {
  if (!options.run('ingestion')) return [];
  const total = Math.round(5_000 * options.scale);
  options.say(`ingestion: ${total} course.generation.completed events, ${CONCURRENCY} at a time, vs raw pg dedup + insert + outbox per event`);
  const admin = new pg.Client({ connectionString: options.serverUrl });
  await admin.connect();
  const prefix = `benchin${randomBytes(3).toString('hex')}`;
  const serviceDb = await scratchDatabase(admin, options.serverUrl);
  let rawDb: { name: string; url: string } | undefined;
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: serviceDb.url,
    NATS_SUBJECT_PREFIX: prefix,
    LOG_LEVEL: 'error',
    CONSUMER_CONCURRENCY: String(CONCURRENCY),
    RELAY_ENABLED: 'false',
  });
  const nc = await connect({ servers: config.nats.url, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.add({ name: config.consumer.streamName, subjects: [withPrefix(prefix, 'course.>')], storage: StorageType.File, retention: RetentionPolicy.Limits });
    const js = jetstream(nc);
    const events = Array.from({ length: total }, (_, i) => courseEvent(i));
    for (let i = 0; i < events.length; i += 500) {
      await Promise.all(events.slice(i, i + 500).map((e) => js.publish(withPrefix(prefix, e.type), JSON.stringify(e), { msgID: e.id })));
    }

    // The service: the backlog is waiting; measure from consumer start to the last claim.
    const app = await createApp(config, { log: pino({ level: 'error' }) });
    const started = performance.now();
    await app.start();
    const probe = new pg.Client({ connectionString: serviceDb.url });
    await probe.connect();
    while (Number((await probe.query('select count(*) as n from processed_message')).rows[0].n) < total) await sleep(20);
    const serviceSeconds = (performance.now() - started) / 1000;
    await probe.end();
    await app.stop();

    // The baseline: the same transaction per event in raw pg, on a copy of the migrated schema, emptied.
    rawDb = await scratchDatabase(admin, options.serverUrl, serviceDb.name);
    const pool = new pg.Pool({ connectionString: rawDb.url, max: config.db.poolMax });
    await pool.query('truncate processed_message, outbox_event, distribution cascade');
    const raw = await measure(
      (i) =>
        inRawTransaction(pool, async (client) => {
          const event = events[i]!;
          const claimed = await client.query(
            `insert into processed_message (consumer, message_id, stream, stream_seq, subject) values ('raw', $1, 'COURSE', $2, 'course.generation.completed') on conflict do nothing returning message_id`,
            [event.id, i + 1],
          );
          if (claimed.rowCount === 1) {
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
            await client.query(
              `insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope) values ($1, 'distribution.created', $2, $3, 'bench', $4)`,
              [`evt_${id}`, `distribution.created.${id}`, id, JSON.stringify({ ...event, type: 'distribution.created' })],
            );
          }
        }),
      { total, concurrency: CONCURRENCY },
    );
    await pool.end();

    const serviceRate = total / serviceSeconds;
    return [
      {
        scenario: `ingestion (${total} generation events, ${CONCURRENCY} at a time; throughput only)`,
        ops_per_s: Math.round(serviceRate),
        p50_ms: 0,
        p99_ms: 0,
        baseline: 'raw pg: dedup + insert + outbox per event, same concurrency',
        baseline_ops_per_s: Math.round(raw.opsPerSecond),
        ratio: Number((serviceRate / raw.opsPerSecond).toFixed(2)),
        target: 0.5,
        errors: raw.errors,
      },
    ];
  } finally {
    await jsm.streams.delete(config.consumer.streamName).catch(() => undefined);
    await nc.close();
    await admin.query(`drop database if exists "${serviceDb.name}" with (force)`);
    if (rawDb) await admin.query(`drop database if exists "${rawDb.name}" with (force)`);
    await admin.end();
  }
}
