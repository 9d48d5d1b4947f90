/**
 * The newcomer check of `.ci/run`, run inside a fresh clone after `npm ci`: with DATABASE_URL and NATS_URL unset (as
 * on a new machine), `npm start` builds, serves a `create` and its event appears on the DISTRIBUTION stream; it
 * stops cleanly on SIGTERM; then `npm run demo` exits 0. Streams that did not exist before are deleted at the end.
 * Exit code 0 when all of that held, 1 otherwise (what failed on stderr).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { setTimeout as sleep } from 'node:timers/promises';

const NATS = 'nats://127.0.0.1:4222';
const started = Date.now();
const say = (line: string) => process.stdout.write(`[newcomer +${((Date.now() - started) / 1000).toFixed(1)} s] ${line}\n`);

/** The environment of a newcomer: this one without the service's own keys. */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !['DATABASE_URL', 'NATS_URL', 'NATS_SUBJECT_PREFIX', 'DATA_DIR', 'NODE_ENV'].includes(key)));

/** `npm <args>` in its own process group, so that the whole group (npm, sh, node) gets the signal. */
function npm(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn('npm', args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
}

/**
 * The service's own process in the group `group` (npm -> sh -> node dist/src/main.js): signalled alone, as a
 * process manager would, its exit code is npm's (a signal to npm itself would end npm first).
 */
function serviceProcess(group: number): number {
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      // `node dist/src/main.js`, not the `sh -c "… && node dist/src/main.js"` that started it.
      if (pgid === group && readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes('dist/src/main.js')) return Number(entry);
    } catch {
      // the process ended meanwhile
    }
  }
  throw new Error('the service process (node dist/src/main.js) was not found');
}

const nc = await connect({ servers: NATS });
const jsm = await jetstreamManager(nc);
async function streamNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const name of jsm.streams.names()) names.push(name);
  return names;
}
const streamsBefore = new Set(await streamNames());
let failure: string | undefined;
const service = npm(['start']);
try {
  const began = Date.now();
  while (!service.output().includes('"msg":"serving requests"')) {
    if (Date.now() - began > 240_000) throw new Error('npm start did not serve within 240 s');
    if (service.child.exitCode !== null) throw new Error(`npm start exited with ${service.child.exitCode}`);
    await sleep(200);
  }
  say(`npm start serves after ${Date.now() - began} ms (build included)`);
  if (!/DATABASE_URL is unset: running on an embedded PostgreSQL/.test(service.output())) throw new Error('the embedded database was not announced');
  const reply = await nc.request('course_distribution.brain_prod.create', JSON.stringify({ course_id: 'course_newcomer', title: `Newcomer ${Date.now()}`, language: 'de' }), {
    timeout: 10_000,
  });
  const error = reply.headers?.get('Nats-Service-Error-Code');
  if (error) throw new Error(`create answered ${error}: ${reply.string()}`);
  const { id } = reply.json<{ id: string }>();
  say(`create answered ${id}`);
  const subject = `distribution.created.${id}`;
  const deadline = Date.now() + 15_000;
  while (!(await jsm.streams.getMessage('DISTRIBUTION', { last_by_subj: subject }).catch(() => null))) {
    if (Date.now() > deadline) throw new Error(`no ${subject} on DISTRIBUTION within 15 s`);
    await sleep(100);
  }
  say(`${subject} is on the DISTRIBUTION stream`);
  process.kill(serviceProcess(service.child.pid!), 'SIGTERM');
  const code = await service.exited;
  if (code !== 0) throw new Error(`npm start exited with ${code} after SIGTERM`);
  say('npm start stopped cleanly on SIGTERM');

  const demo = npm(['run', 'demo']);
  const limit = new AbortController();
  const demoCode = await Promise.race([demo.exited, sleep(240_000, 'timeout' as const, { signal: limit.signal }).catch(() => 'aborted' as const)]);
  limit.abort();
  if (demoCode !== 0) {
    if (demoCode === 'timeout') process.kill(-demo.child.pid!, 'SIGKILL');
    throw new Error(`npm run demo: ${demoCode === 'timeout' ? 'did not end within 240 s' : `exit ${demoCode}`}\n${demo.output().slice(-4000)}`);
  }
  say(`npm run demo exited 0 (${demo.output().split('\n').length} lines)`);
} catch (err) {
  failure = `${(err as Error).message}\n--- npm start output (last part) ---\n${service.output().slice(-4000)}`;
} finally {
  if (service.child.exitCode === null) {
    process.kill(-service.child.pid!, 'SIGKILL');
    await service.exited;
  }
  for (const name of await streamNames()) if (!streamsBefore.has(name) && ['DISTRIBUTION', 'COURSE'].includes(name)) await jsm.streams.delete(name);
  await nc.close();
}
if (failure) {
  process.stderr.write(`[newcomer] FAILED: ${failure}\n`);
  process.exit(1);
}
say('passed');
process.exit(0);
