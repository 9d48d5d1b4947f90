/**
 * Relay benchmarks, called by bench/run.ts:
 * - throughput: the relay draining a backlog of 20,000 outbox rows vs raw async `js.publish` (msgID, same window
 *   of in-flight PubAcks, same bodies and subjects) on the same connection, in the same run;
 * - commit-to-stream latency at a steady 200 events/s: commit (transaction resolved) to the message delivered by
 *   an ordered consumer; the ratio is 50 ms / p99 (target >= 1, i.e. p99 under 50 ms).
 * Each scenario gets its own database and subject prefix; its stream is deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import pg from 'pg';
import { pino } from 'pino';
import { createApp, newId } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { createOutboxRelay, relayOptionsOf, type RelayStatus } from '../src/messaging/outbox-relay.js';
import { withPrefix } from '../src/messaging/subjects.js';
import { appendToOutbox } from '../src/persistence/outbox.js';
import { commandSubject } from '../src/messaging/subjects.js';
import type { ScenarioResult } from './measure.js';

export interface RelayBenchOptions {
  serverUrl: string;
  scale: number;
  say: (line: string) => void;
  run: (scenario: string) => boolean;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

async function withBenchApp<T>(serverUrl: string, env: Record<string, string>, body: (ctx: Awaited<ReturnType<typeof bootApp>>) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const dbName = `cd_bench_relay_${randomBytes(4).toString('hex')}`;
  await admin.query(`create database "${dbName}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  const ctx = await bootApp(url.toString(), env);
  try {
    return await body(ctx);
  } finally {
    await ctx.app.stop();
    const nc = await (await import('@nats-io/transport-node')).connect({ servers: ctx.config.nats.url });
    await (await jetstreamManager(nc)).streams.delete(ctx.config.stream.name).catch(() => undefined);
    await nc.close();
    await admin.query(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
  }
}

const ackedAt = new Map<string, number>();

async function bootApp(databaseUrl: string, env: Record<string, string>) {
  const prefix = `benchrelay${randomBytes(3).toString('hex')}`;
  // The relay scenarios do not consume: without the consumer, no COURSE stream is expected.
  const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl, NATS_SUBJECT_PREFIX: prefix, LOG_LEVEL: 'error', CONSUMER_ENABLED: 'false', ...env });
  const app = await createApp(config, {
    log: pino({ level: 'error' }),
    relayHooks: process.env.BENCH_DEBUG ? { afterPublish: (row) => void ackedAt.set(row.eventId, performance.now()) } : {},
  });
  await app.start();
  return { app, config, prefix, databaseUrl };
}

/** A real envelope (from a create), to clone with fresh ids. */
async function sampleEnvelope(ctx: Awaited<ReturnType<typeof bootApp>>): Promise<Record<string, any>> {
  const reply = await ctx.app.nc.request(
    commandSubject(ctx.prefix, 'bench', 'create'),
    JSON.stringify({ course_id: 'course_bench', title: 'Relais Benchmark Kurs', language: 'de', description: 'Ein Kurs über Geldanlage' }),
    { timeout: 10_000 },
  );
  const id = reply.json<{ id: string }>().id;
  const rows = await ctx.app.deps.db.execute<{ envelope: Record<string, any> }>(`select envelope from outbox_event where aggregate_id = ?`, [id]);
  return rows[0]!.envelope;
}

async function throughput(options: RelayBenchOptions): Promise<ScenarioResult> {
  const total = Math.round(20_000 * options.scale);
  // The app's own relay is off: the backlog is written first, then a relay (the same component) drains it.
  return withBenchApp(options.serverUrl, { RELAY_ENABLED: 'false' }, async (ctx) => {
    const { config } = ctx;
    const template = await sampleEnvelope(ctx);
    const { provisionEventStream } = await import('../src/messaging/event-stream.js');
    await provisionEventStream(ctx.app.nc, config.stream, config.nats.subjectPrefix, pino({ level: 'error' }), { retryMs: 1000, signal: new AbortController().signal });
    const distributions = 1000;
    const envelopes: Array<Record<string, any>> = Array.from({ length: total }, (_, i) => {
      const distributionId = `dist_${String(i % distributions).padStart(26, '0')}`;
      return { ...template, id: newId('evt'), payload: { ...template.payload, distribution_id: distributionId } };
    });
    options.say(`relay throughput: draining ${total} outbox rows (${distributions} distributions) vs raw js.publish, window ${config.relay.maxInFlight}`);
    await ctx.app.deps.db.execute('delete from outbox_event'); // the sample's own row
    await writeOutboxBacklog(ctx.databaseUrl, envelopes);

    // Baseline: the same bodies on the same subjects, msgID set, a sliding window of in-flight PubAcks.
    const js = jetstream(ctx.app.nc);
    const bodies = envelopes.map((e) => ({ subject: withPrefix(config.nats.subjectPrefix, `${e.type}.${e.payload.distribution_id}`), body: JSON.stringify(e), id: `raw_${e.id}` }));
    const rawStart = performance.now();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const b = bodies[i]!;
        const ack: PubAck = await js.publish(b.subject, b.body, { msgID: b.id, timeout: 10_000 });
        if (ack.duplicate) throw new Error('unexpected duplicate');
      }
    };
    await Promise.all(Array.from({ length: config.relay.maxInFlight }, worker));
    const rawSeconds = (performance.now() - rawStart) / 1000;

    const { seconds: relaySeconds, status } = await drainOutbox(ctx.databaseUrl, js, config);
    const relayRate = total / relaySeconds;
    const rawRate = total / rawSeconds;
    return {
      scenario: `relay drains ${total} rows`,
      ops_per_s: round(relayRate, 0),
      p50_ms: 0,
      p99_ms: 0,
      baseline: `raw js.publish, msgID, ${config.relay.maxInFlight} in flight`,
      baseline_ops_per_s: round(rawRate, 0),
      ratio: round(relayRate / rawRate),
      target: 0.8,
      errors: status.failed_publishes_total,
    };
  });
}

async function latency(options: RelayBenchOptions): Promise<ScenarioResult> {
  const rate = 200;
  const total = Math.round(3000 * options.scale);
  return withBenchApp(options.serverUrl, {}, async (ctx) => {
    const template = await sampleEnvelope(ctx);
    const js = jetstream(ctx.app.nc);
    const consumer = await js.consumers.get(ctx.config.stream.name, { deliver_policy: DeliverPolicy.New });
    // The relay may deliver before the committing side sees its COMMIT return: whichever comes second records.
    const committedAt = new Map<string, number>();
    const arrivedAt = new Map<string, number>();
    const latencies: number[] = [];
    const ackLatencies: number[] = [];
    let errors = 0;
    const record = (id: string) => {
      const committed = committedAt.get(id);
      const arrived = arrivedAt.get(id);
      if (committed === undefined || arrived === undefined) return;
      latencies.push(Math.max(0, arrived - committed));
      const acked = ackedAt.get(id);
      if (acked !== undefined) ackLatencies.push(Math.max(0, acked - committed));
    };
    const messages = await consumer.consume({ max_messages: 1000 });
    const received = (async () => {
      for await (const m of messages) {
        const id = m.headers?.get('Nats-Msg-Id') ?? '';
        if (id === template.id) continue; // the sample's own event, when the relay publishes it only now
        arrivedAt.set(id, performance.now());
        record(id);
        if (arrivedAt.size === total) break;
      }
    })();
    options.say(`relay latency: ${total} commits at ${rate}/s, commit -> delivered to a consumer`);
    const started = performance.now();
    const commits: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const envelope = { ...template, id: newId('evt') };
      commits.push(
        ctx.app.deps.db
          .transaction((tx) => appendToOutbox(tx, ctx.app.deps.validator, [envelope as never]))
          .then(() => {
            committedAt.set(envelope.id, performance.now());
            record(envelope.id);
          })
          .catch(() => void errors++),
      );
    }
    await Promise.all(commits);
    const seconds = (performance.now() - started) / 1000;
    const timeout = setTimeout(() => messages.stop(), 30_000);
    await received;
    clearTimeout(timeout);
    latencies.sort((a, b) => a - b);
    if (process.env.BENCH_DEBUG) {
      ackLatencies.sort((a, b) => a - b);
      options.say(`commit -> PubAck p50 ${ackLatencies[Math.floor(ackLatencies.length / 2)]} p99 ${ackLatencies[Math.floor(ackLatencies.length * 0.99)]}`);
    }
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Infinity;
    return {
      scenario: `relay commit-to-stream, ${rate} events/s`,
      ops_per_s: round(total / seconds, 0),
      p50_ms: round(at(0.5)),
      p99_ms: round(at(0.99)),
      baseline: 'target: p99 under 50 ms (ratio = 50 / p99)',
      baseline_ops_per_s: rate,
      ratio: round(50 / at(0.99)),
      target: 1,
      errors: errors + (total - latencies.length),
    };
  });
}

/** Runs the relay scenarios selected by `options.run` and returns their results. */
export async function runRelayBenchmarks(options: RelayBenchOptions): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  if (options.run('relay_throughput')) results.push(await throughput(options));
  if (options.run('relay_latency')) results.push(await latency(options));
  return results;
}

/** Deletes a bench stream (own short-lived connection). */
export async function deleteStream(natsUrl: string, name: string): Promise<void> {
  const nc = await (await import('@nats-io/transport-node')).connect({ servers: natsUrl });
  await (await jetstreamManager(nc)).streams.delete(name).catch(() => undefined);
  await nc.close();
}

/** The relay's backlog: `envelopes` as unpublished outbox rows (subject `<type>.<distribution id>`), then analyzed. */
export async function writeOutboxBacklog(databaseUrl: string, envelopes: ReadonlyArray<Record<string, any>>): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  try {
    for (let i = 0; i < envelopes.length; i += 2000) {
      const chunk = envelopes.slice(i, i + 2000).map((e) => ({
        event_id: e.id,
        event_type: e.type,
        subject: `${e.type}.${e.payload.distribution_id}`,
        aggregate_id: e.payload.distribution_id,
        tenant_id: 'bench',
        envelope: e,
        created_at: e.timestamp,
      }));
      await pool.query(
        `insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope, created_at)
         select * from jsonb_to_recordset($1::jsonb) as r(event_id text, event_type text, subject text, aggregate_id text, tenant_id text, envelope jsonb, created_at timestamptz)`,
        [JSON.stringify(chunk)],
      );
    }
    await pool.query('analyze outbox_event');
  } finally {
    await pool.end();
  }
}

/** Starts a relay (the service's component) on `databaseUrl` and waits until it has published every unpublished row. */
export async function drainOutbox(databaseUrl: string, js: JetStreamClient, config: Config): Promise<{ seconds: number; status: RelayStatus }> {
  const relay = createOutboxRelay({ databaseUrl, js, log: pino({ level: 'error' }) }, relayOptionsOf(config));
  const started = performance.now();
  relay.start();
  while (!relay.active) await new Promise((resolve) => setTimeout(resolve, 1));
  const drained = await relay.flush(300_000);
  const seconds = (performance.now() - started) / 1000;
  const status = await relay.status();
  await relay.stop();
  if (!drained || status.unpublished !== 0) throw new Error(`relay did not drain: ${JSON.stringify(status)}`);
  return { seconds, status };
}
