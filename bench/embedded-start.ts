/**
 * `npm run bench:embedded`: start-up time and memory of the built service (`node dist/src/main.js`, what `npm start`
 * runs; build first) on the embedded database: the first start on a new DATA_DIR (PGlite creates its files), then
 * later starts on the same directory, and for comparison starts on the real PostgreSQL (DATABASE_URL, else the
 * local server) when one answers. Time = spawn to the `serving requests` log line; RSS = resident memory then,
 * and the peak (VmHWM). NATS as the service finds it (NATS_URL, or the default address), under a private
 * subject prefix whose streams are deleted afterwards. Not part of `npm test`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';

const root = resolve(import.meta.dirname, '..');
const later = Number(process.argv[2] ?? 3);
const prefix = `bench${randomBytes(3).toString('hex')}`;
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

interface Start {
  kind: string;
  ms: number;
  rssMb: number;
  peakMb: number;
}

function memory(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
}

function startOnce(kind: string, env: Record<string, string>): Promise<Start> {
  return new Promise((done, fail) => {
    const began = performance.now();
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NATS_SUBJECT_PREFIX: prefix, NATS_URL: natsUrl, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    let serving = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (serving || !output.includes('"msg":"serving requests"')) return;
      serving = true;
      const ms = Math.round(performance.now() - began);
      // Settle a moment: the relay and the consumer start right after the line.
      setTimeout(() => {
        const measured = { kind, ms, ...memory(child.pid ?? 0) };
        child.once('exit', (code) => (code === 0 ? done(measured) : fail(new Error(`${kind}: exit ${code}`))));
        child.kill('SIGTERM');
      }, 500);
    });
    child.once('exit', (code) => {
      if (!serving) fail(new Error(`${kind}: exited ${code} before serving: ${output.slice(-2000)}`));
    });
  });
}

const results: Start[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'cd-bench-embedded-'));
try {
  results.push(await startOnce('embedded, first start (new DATA_DIR)', { DATA_DIR: dataDir }));
  for (let i = 0; i < later; i++) results.push(await startOnce('embedded, later start', { DATA_DIR: dataDir }));
  const serverUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: serverUrl });
  if (
    await admin.connect().then(
      () => true,
      () => false,
    )
  ) {
    const db = `cd_bench_${randomBytes(4).toString('hex')}`;
    await admin.query(`create database "${db}"`);
    const url = new URL(serverUrl);
    url.pathname = `/${db}`;
    try {
      results.push(await startOnce('PostgreSQL server, first start (migrates)', { DATABASE_URL: url.toString() }));
      for (let i = 0; i < later; i++) results.push(await startOnce('PostgreSQL server, later start', { DATABASE_URL: url.toString() }));
    } finally {
      await admin.query(`drop database if exists "${db}" with (force)`);
      await admin.end();
    }
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  for (const stream of [`DISTRIBUTION_${prefix.toUpperCase()}`, `COURSE_${prefix.toUpperCase()}`]) await jsm.streams.delete(stream).catch(() => undefined);
  await nc.close();
}
console.log('| start | to serving (ms) | RSS serving (MB) | RSS peak (MB) |\n| --- | --- | --- | --- |');
for (const r of results) console.log(`| ${r.kind} | ${r.ms} | ${r.rssMb} | ${r.peakMb} |`);
