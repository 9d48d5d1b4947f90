/**
 * Logging cost benchmark, called by bench/run.ts: `create` with LOG_LEVEL=info (one line per request, written by
 * the service's own logger to /dev/null, which costs about what production stdout does) vs `create` with
 * LOG_LEVEL=error (no request lines), in the same run. Two instances, each on its own database and subject prefix,
 * run side by side; the measurement alternates between them in rounds (error first, then info first, ...), so drift
 * of the machine during the run falls on both alike. Target: info costs less than 5 % (ratio >= 0.95).
 */
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { pino } from 'pino';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { commandSubject } from '../src/messaging/subjects.js';
import { compare, measure, type Measurement, type ScenarioResult } from './measure.js';
import type { IngestionBenchOptions } from './ingestion.js';
import { deleteStream } from './relay.js';

/** The same runner options as the other scenarios. */
export type LoggingBenchOptions = IngestionBenchOptions;

const CONCURRENCY = 16;
const ROUNDS = 6;

interface Instance {
  app: App;
  prefix: string;
  database: string;
  natsUrl: string;
  /** The event stream the instance's relay provisioned under its prefix. */
  stream: string;
}

async function startInstance(admin: pg.Client, serverUrl: string, level: 'info' | 'error'): Promise<Instance> {
  const database = `cd_bench_log_${randomBytes(4).toString('hex')}`;
  await admin.query(`create database "${database}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const prefix = `benchlog${randomBytes(3).toString('hex')}`;
  const config = loadConfig({ ...process.env, DATABASE_URL: url.toString(), NATS_SUBJECT_PREFIX: prefix, LOG_LEVEL: level, CONSUMER_ENABLED: 'false' });
  const app = await createApp(config, { log: createLogger(config.logLevel, 'json', pino.destination('/dev/null')) });
  await app.start();
  return { app, prefix, database, natsUrl: config.nats.url, stream: config.stream.name };
}

/** Rounds measured one after the other, as one measurement: totals summed, median p50, worst p99. */
function merged(rounds: readonly Measurement[]): Measurement {
  const ops = rounds.reduce((n, r) => n + r.ops, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const p50s = rounds.map((r) => r.p50Ms).sort((a, b) => a - b);
  return {
    ops,
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    seconds,
    opsPerSecond: ops / seconds,
    p50Ms: p50s[Math.floor(p50s.length / 2)] ?? 0,
    p99Ms: Math.max(...rounds.map((r) => r.p99Ms)),
  };
}

export async function runLoggingBenchmark(options: LoggingBenchOptions): Promise<ScenarioResult[]> {
  if (!options.run('create_logging')) return [];
  const creates = Math.round(4_000 * options.scale);
  options.say(`create_logging: ${creates} creates per level, ${CONCURRENCY} in flight, LOG_LEVEL=info vs LOG_LEVEL=error (logs to /dev/null)`);
  const admin = new pg.Client({ connectionString: options.serverUrl });
  await admin.connect();
  const instances: Instance[] = [];
  const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', noAsyncTraces: true });
  try {
    const quiet = await startInstance(admin, options.serverUrl, 'error');
    instances.push(quiet);
    const logged = await startInstance(admin, options.serverUrl, 'info');
    instances.push(logged);
    let next = 0;
    const create = (instance: Instance) => async () => {
      const i = next++;
      const msg = await nc.request(
        commandSubject(instance.prefix, 'bench', 'create'),
        JSON.stringify({ course_id: `course_l${i % 100}`, title: `Protokollierter Kurs ${i}`, language: 'de' }),
        {
          timeout: 30_000,
        },
      );
      if (msg.headers?.get('Nats-Service-Error-Code')) throw new Error(msg.string());
    };
    const perRound = Math.ceil(creates / ROUNDS);
    for (const instance of instances) await measure(create(instance), { total: 300, concurrency: CONCURRENCY }); // warm-up
    const quietRounds: Measurement[] = [];
    const loggedRounds: Measurement[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ([quiet, logged] as const) : ([logged, quiet] as const);
      for (const instance of order) {
        const result = await measure(create(instance), { total: perRound, concurrency: CONCURRENCY });
        (instance === quiet ? quietRounds : loggedRounds).push(result);
      }
    }
    return [compare('create with LOG_LEVEL=info (16 in flight)', merged(loggedRounds), 'create with LOG_LEVEL=error, same run', merged(quietRounds), 0.95)];
  } finally {
    await nc.drain();
    for (const instance of instances) {
      await instance.app.stop();
      await deleteStream(instance.natsUrl, instance.stream);
      await admin.query(`drop database if exists "${instance.database}" with (force)`);
    }
    await admin.end();
  }
}
