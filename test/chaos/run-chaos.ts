/**
 * One chaos run: a private PostgreSQL and a private NATS (one server, or a three-node JetStream cluster with R3
 * streams), two instances of the real service as supervised processes (on a cluster, each on its own node), a
 * seeded workload with seeded faults, then, once the system is quiet, the client's retries, and the checks.
 * Everything is torn down afterwards; the run directory (ledger, instance logs) is kept when the run fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { freePort } from '../helpers/nats.js';
import { checkChaosRun, type ChaosFindings, type StreamMessage } from './checks.js';
import { injectFaults, planFaults } from './faults.js';
import { createLedger } from './ledger.js';
import { startPrivateNats, type Topology } from './private-nats.js';
import { startPrivatePostgres } from './private-postgres.js';
import { seededRandom } from './seeded-random.js';
import { startSupervisor } from './service-supervisor.js';
import { createHotPages, retryPending, runWorkload, type WorkloadDeps } from './workload.js';

export interface ChaosOptions {
  seed: number;
  topology: Topology;
  durationMs: number;
  callers?: number;
  viewers?: number;
  hotPages?: number;
  /** How long the system may take to become quiet after the workload (and after the retries). */
  quietTimeoutMs?: number;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  topology: Topology;
  passed: boolean;
  findings: ChaosFindings;
  /** Kept when the run failed: ledger.jsonl and one log per instance. */
  runDir: string;
  ledgerPath: string;
  seconds: number;
}

const EVENT_STREAM = 'DISTRIBUTION';
const COURSE_STREAM = 'COURSE';
const DURABLE = 'distribution_consumer';

/** The service's settings for the run: short retry and takeover horizons, so recovery fits in seconds. */
function instanceEnv(databaseUrl: string, natsUrl: string, replicas: number): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    LOG_LEVEL: 'info',
    DB_POOL_MAX: '8',
    DB_ACQUIRE_TIMEOUT_MS: '2000',
    STARTUP_TIMEOUT_MS: '600000',
    SHUTDOWN_TIMEOUT_MS: '10000',
    STREAM_REPLICAS: String(replicas),
    CONSUMER_ACK_WAIT_MS: '3000',
    CONSUMER_RETRY_BASE_MS: '200',
    CONSUMER_RETRY_MAX_MS: '2000',
    OUTBOX_LOCK_RETRY_MS: '500',
    OUTBOX_LOCK_STALE_MS: '2000',
    OUTBOX_MAX_BACKOFF_MS: '2000',
    OUTBOX_POLL_INTERVAL_MS: '500',
    OUTBOX_PUBLISH_TIMEOUT_MS: '3000',
    OUTBOX_FLUSH_TIMEOUT_MS: '3000',
  };
}

async function pendingWork(jsm: JetStreamManager, db: pg.Pool): Promise<{ consumer: number; outbox: number }> {
  const info = await jsm.consumers.info(COURSE_STREAM, DURABLE);
  // Views and clicks counted but not yet announced (counter_pending) are outbox rows still to come.
  const outbox = await db.query<{ n: string }>(`select (select count(*) from outbox_event where published_at is null) + (select count(*) from counter_pending) as n`);
  return { consumer: info.num_pending + info.num_ack_pending, outbox: Number(outbox.rows[0]!.n) };
}

/** Until nothing is pending twice in a row (consumer, outbox, unannounced counts), or the timeout: returns what is still pending. */
async function waitQuiet(jsm: JetStreamManager, db: pg.Pool, timeoutMs: number): Promise<{ consumer: number; outbox: number }> {
  const deadline = Date.now() + timeoutMs;
  let last = { consumer: -1, outbox: -1 };
  let quietOnce = false;
  while (Date.now() < deadline) {
    last = await pendingWork(jsm, db).catch(() => ({ consumer: -1, outbox: -1 }));
    const quiet = last.consumer === 0 && last.outbox === 0;
    if (quiet && quietOnce) return last;
    quietOnce = quiet;
    await sleep(500);
  }
  return last;
}

async function readStream(jsm: JetStreamManager, js: ReturnType<typeof jetstream>): Promise<StreamMessage[]> {
  const info = await jsm.streams.info(EVENT_STREAM);
  const messages: StreamMessage[] = [];
  if (info.state.messages === 0) return messages;
  const consumer = await js.consumers.get(EVENT_STREAM); // ordered: every message once, in stream order
  const iterator = await consumer.consume();
  for await (const m of iterator) {
    messages.push({ seq: m.seq, subject: m.subject, body: m.json() });
    if (m.seq >= info.state.last_seq) break;
  }
  return messages;
}

async function retrying<T>(what: string, attempt: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${String(err)}`);
      await sleep(250);
    }
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const progress = options.progress ?? (() => undefined);
  const runDir = mkdtempSync(join(tmpdir(), `cd-chaos-${options.topology}-${options.seed}-`));
  const ledger = createLedger(join(runDir, 'ledger.jsonl'));
  const random = seededRandom(options.seed);
  const nodes = options.topology === 'single' ? 1 : 3;
  const clientPorts = await Promise.all(Array.from({ length: nodes }, () => freePort()));
  const routePorts = options.topology === 'cluster' ? await Promise.all(Array.from({ length: nodes }, () => freePort())) : [];

  const postgres = await startPrivatePostgres(await freePort());
  const nats = await startPrivateNats(options.topology, clientPorts, routePorts).catch((err: unknown) => {
    postgres.destroy();
    throw err;
  });
  const db = new pg.Pool({ connectionString: postgres.url, max: 2 });
  db.on('error', () => undefined);
  const nc = await connect({ servers: nats.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250, name: 'chaos-harness' });
  // Two instances; on a cluster each connects to its own node.
  const supervisor = startSupervisor(
    [0, 1].map((i) => instanceEnv(postgres.url, nats.urls[i % nats.urls.length]!, nodes)),
    runDir,
  );
  try {
    // A new cluster answers JetStream requests only once it has elected its meta leader.
    const jsm = await retrying('JetStream to answer', () => jetstreamManager(nc, { timeout: 2000 }));
    // CourseFactory owns its stream: created here, replicated like ours on a cluster.
    const course = { name: COURSE_STREAM, subjects: ['course.>'], num_replicas: nodes, storage: StorageType.File, retention: RetentionPolicy.Limits };
    await retrying('the COURSE stream', () => jsm.streams.add(course));
    const js = jetstream(nc, { timeout: 5000 });
    await Promise.all(supervisor.instances.map((instance) => instance.waitServing()));
    progress(`${options.topology} seed ${options.seed}: ${supervisor.instances.length} instances serving`);

    const deps: WorkloadDeps = { nc, js, ledger, random, seed: options.seed, requestTimeoutMs: 3000 };
    const hot = await createHotPages(deps, options.hotPages ?? 3);
    const plan = planFaults(random.fork(1), options.durationMs);
    progress(`workload for ${options.durationMs} ms with ${plan.length} faults: ${plan.map((f) => `${f.kind}@${f.atMs}`).join(', ')}`);
    const [workload] = await Promise.all([
      runWorkload(deps, { durationMs: options.durationMs, callers: options.callers ?? 4, viewers: options.viewers ?? 2, hot }),
      injectFaults(plan, { supervisor, nats, postgres, nc, streams: [EVENT_STREAM, COURSE_STREAM] }, ledger),
    ]);

    await Promise.all(supervisor.instances.map((instance) => instance.waitServing()));
    const quietTimeoutMs = options.quietTimeoutMs ?? 90_000;
    progress(`workload done; waiting for quiet: ${JSON.stringify(await waitQuiet(jsm, db, quietTimeoutMs))}`);
    await retryPending(deps, workload.pages);
    const pending = await waitQuiet(jsm, db, quietTimeoutMs);
    progress(`retries done; pending ${JSON.stringify(pending)}; checking`);

    const stream = await readStream(jsm, js);
    const findings = await checkChaosRun(db, stream, workload, ledger.entries(), { consumer: Math.max(0, pending.consumer) });
    const passed = Object.values(findings.counts).every((n) => n === 0);
    return { seed: options.seed, topology: options.topology, passed, findings, runDir, ledgerPath: ledger.path, seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    await supervisor.stop();
    await ledger.close();
    await nc.close().catch(() => undefined);
    await db.end().catch(() => undefined);
    await nats.destroy();
    postgres.destroy();
  }
}

/** Removes a passed run's directory (a failed run's is kept for the replay and the post-mortem). */
export function discardRunDir(report: ChaosReport): void {
  if (report.passed) rmSync(report.runDir, { recursive: true, force: true });
}
