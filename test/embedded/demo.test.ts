/**
 * `npm run demo` (src/demo/main.ts) as a newcomer runs it: every step does what it should (else the demo exits 1),
 * against a service that answers, or against one it starts on the embedded database when none does.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { startTestApp } from '../helpers/app.js';
import { deleteStreamQuietly, natsNamespace } from '../helpers/nats.js';
import { LOCAL_NATS_URL, resolveNats } from '../helpers/services.js';

const root = resolve(import.meta.dirname, '../..');
const nats = await resolveNats();

/** Runs the demo with a clean environment (PATH, HOME and `env`); resolves with its exit code and output. */
function runDemo(env: Record<string, string>, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/demo/main.ts', ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 100_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

t.test('when no service answers, then the demo starts one on the embedded database and plays every step (--json)', async (t) => {
  const namespace = natsNamespace();
  const dataDir = mkdtempSync(join(tmpdir(), 'cd-demo-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // NATS_URL only when the tests' NATS is not on the default address (then CourseFactory's stream is created as it
  // would be without NATS_URL).
  const env = { DATA_DIR: dataDir, NATS_SUBJECT_PREFIX: namespace.id, ...(nats.url !== LOCAL_NATS_URL && { NATS_URL: nats.url, COURSE_STREAM_CREATE: 'true' }) };
  const config = loadConfig(env);
  t.teardown(async () => {
    await deleteStreamQuietly(nats.url, config.stream.name);
    await deleteStreamQuietly(nats.url, config.consumer.streamName);
  });

  const run = await runDemo(env, ['--json']);
  t.equal(run.code, 0, 'exit 0');
  if (run.code !== 0) t.comment(run.stderr.slice(-3000));
  const result = JSON.parse(run.stdout);
  t.match(result.service, /started for the demo, on the embedded database/);
  const types = (i: number) => result.steps[i].events.map((e: { type: string }) => e.type);
  t.same(
    result.steps.map((s: { actor: string }) => s.actor),
    ['CourseFactory', 'CourseFactory', 'CourseFactory', 'caller', 'caller', 'caller', 'caller', 'caller', 'caller'],
  );
  t.same(types(0), ['distribution.created'], 'a generated course creates a distribution');
  t.same(types(1), ['distribution.updated'], 'its staging deployment updates it');
  t.same(types(2), [], 'the same deployment again changes nothing');
  t.same(types(3), ['distribution.published']);
  t.ok(types(4).length >= 1 && types(4).every((type: string) => type === 'distribution.viewed'), 'views are announced');
  // the course's staging deployment (step 2) reaches the variant too: created, micro_niche_created, then updated with it
  t.same(types(6), ['distribution.created', 'distribution.micro_niche_created', 'distribution.updated'], 'the variant is created, announced and given the staging URL');
  t.same(types(7), ['distribution.version_bumped']);
  t.match(result.steps[0].events[0], { subject: `${namespace.id}.distribution.created.${result.distributionId}`, payload: { course_id: result.courseId } });
  t.match(result.stored, { id: result.distributionId, visibility: 'public', version: 'v2', view_count: 3, enrollment_count: 2 }, 'ending with the distribution as stored');
});

t.test('when a service answers, then the demo plays against it and prints each step for a terminal', async (t) => {
  const { namespace } = await startTestApp(t);
  const run = await runDemo({ NATS_URL: nats.url, NATS_SUBJECT_PREFIX: namespace.id, DATA_DIR: '/nonexistent/never-used' });
  t.equal(run.code, 0, 'exit 0');
  if (run.code !== 0) t.comment(run.stderr.slice(-3000));
  t.match(run.stdout, /^course-distribution demo \(the service answering on /);
  for (const line of [
    /1\. \[CourseFactory\] a course is generated\n {3}-> \S+\.course\.generation\.completed\.course_demo_/,
    /event distribution\.created {2}on \S+\.distribution\.created\.dist_/,
    /3\. \[CourseFactory\] the same deployment event again[\s\S]*?events: none/,
    /8\. \[caller\] a version bump[\s\S]*?old_version="v1" {2}new_version="v2"/,
    /The distribution as stored:\n\{\n {2}"id": "dist_/,
  ]) {
    t.match(run.stdout, line);
  }
});
