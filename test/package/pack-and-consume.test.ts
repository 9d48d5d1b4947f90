/**
 * Packs packages/contracts (`npm pack` runs its prepack build), installs the tarball into a scratch project the way a
 * downstream team would, and type-checks and runs a consumer against it. Needs the npm registry or a warm npm cache
 * for ajv and ajv-formats.
 */
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const PACKAGE_DIR = join(ROOT, 'packages', 'contracts');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const ROOT_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

t.setTimeout(120_000);

const work = mkdtempSync(join(tmpdir(), 'contracts-pack-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The children get a clean environment: tap's variables would hook them, and the npm_* variables of an outer
 * `npm test` (npm_config_local_prefix=<root>, ...) would make the inner npm act on the service's package.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_registry', 'npm_config_cafile']);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !keep.has(key.toLowerCase())) continue;
    if (/^(TAP|_TAPJS|TS_NODE_|NODE_OPTIONS$|NODE_V8_COVERAGE$)/.test(key)) continue;
    env[key] = value;
  }
  return env;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, { cwd, env: cleanEnv(), maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout, stderr: err && !stderr ? err.message : stderr });
    });
  });
}

/** Asserts that a step exited 0; its output shows up only when it did not. */
function succeeded(t: Test, step: string, r: Run): boolean {
  return t.equal(r.code, 0, `${step} succeeds`, { stdout: r.stdout, stderr: r.stderr });
}

interface PackResult {
  name: string;
  version: string;
  filename: string;
  files: { path: string }[];
}

let tarball: string | undefined;
let packed: PackResult | undefined;

t.test('when the package is packed, then prepack builds it and the tarball carries the service version', async (t) => {
  const destination = join(work, 'pack');
  mkdirSync(destination);
  const r = await run(NPM, ['pack', '--json', '--pack-destination', destination], PACKAGE_DIR);
  if (!succeeded(t, 'npm pack', r)) return;
  const results = JSON.parse(r.stdout) as PackResult[];
  t.equal(results.length, 1);
  packed = results[0];
  if (!packed) return;
  t.equal(packed.name, '@course-distribution/contracts');
  t.equal(packed.version, ROOT_VERSION, 'the package version is the root package.json version');
  tarball = join(destination, packed.filename);
});

t.test('when the tarball is listed, then it holds the compiled contract, schemas, examples and README only', async (t) => {
  if (!packed) return t.fail('npm pack did not produce a tarball');
  const files = packed.files.map((f) => f.path).sort();
  const has = (re: RegExp): boolean => files.some((f) => re.test(f));

  for (const expected of [
    'package.json',
    'README.md',
    'dist/src/contracts/index.js',
    'dist/src/contracts/index.d.ts',
    'dist/src/contracts/validator.js',
    'dist/src/contracts/validator.d.ts',
    'dist/src/contracts/event-types.js',
    'dist/generated/schemas.js',
    'dist/generated/schemas.d.ts',
    'dist/generated/types.d.ts',
    'schemas/common.schema.json',
    'schemas/distribution.published.schema.json',
    'schemas/op.create.request.schema.json',
    'schemas/examples/distribution.published.json',
  ]) {
    t.ok(files.includes(expected), `contains ${expected}`);
  }
  t.ok(files.filter((f) => /^schemas\/[^/]+\.schema\.json$/.test(f)).length >= 20, 'every schema is shipped');
  t.ok(has(/^schemas\/examples\/[^/]+\.json$/), 'the examples are shipped');

  t.same(
    files.filter((f) => !/^(package\.json|README\.md|dist\/.+\.(js|d\.ts)|schemas\/.+\.(json|ya?ml))$/.test(f)),
    [],
    'nothing but package.json, README.md, dist JS/.d.ts and schema files',
  );
  t.notOk(has(/(^|\/)test\//), 'no test files');
  t.notOk(has(/\.test\./), 'no test files');
  t.notOk(has(/^src\//), 'no TypeScript sources');
  t.notOk(has(/(?<!\.d)\.ts$/), 'no .ts other than declarations');
  t.notOk(has(/\.(map|tsbuildinfo)$|^tsconfig|build\.mjs$/), 'no build leftovers');
});

const CONSUMER = `import {
  createContractValidator,
  formatIssues,
  PRODUCED_EVENT_TYPES,
  schemaNames,
  type ContractTypes,
  type DistributionPublishedEvent,
} from '@course-distribution/contracts';
import examples from '@course-distribution/contracts/schemas/examples/distribution.published.json' with { type: 'json' };
import publishedSchema from '@course-distribution/contracts/schemas/distribution.published.schema.json' with { type: 'json' };
import manifest from '@course-distribution/contracts/package.json' with { type: 'json' };

// No @types/node and no DOM lib: the package must type-check without either.
declare const console: { log(...data: unknown[]): void };

const validator = createContractValidator();
const sample = examples.valid[0];
const broken = examples.invalid[0];
if (!sample || !broken) throw new Error('the examples are empty');

const result = validator.validate('distribution.published', sample.data);
if (!result.ok) throw new Error(formatIssues(result.issues));
const event: DistributionPublishedEvent = result.value;
console.log('valid: ' + event.type + ' ' + event.payload.slug + ' [' + event.payload.seo.meta_keywords.join(',') + ']');

const parsed = validator.parse('distribution.published', JSON.stringify(sample.data));
console.log('parsed: ' + (parsed.ok ? parsed.value.payload.distribution_id : 'rejected ' + formatIssues(parsed.issues)));

const rejected = validator.validate('distribution.published', broken.data);
console.log('invalid (' + broken.name + '): ' + (rejected.ok ? 'accepted' : rejected.kind + ' ' + formatIssues(rejected.issues)));

const garbage = validator.parse('distribution.published', '{"id": ');
console.log('garbage: ' + (garbage.ok ? 'accepted' : garbage.kind));

const same: ContractTypes['distribution.published'] = event;
console.log('schema: ' + publishedSchema.$id + ' for ' + same.type);
console.log('catalogue: ' + schemaNames.length + ' schemas, ' + PRODUCED_EVENT_TYPES.length + ' produced events, version ' + manifest.version);

// A click nobody attributed is 'unknown' (in the type and the schema); languages are BCP 47 tags.
const click: ContractTypes['op.track_enrollment_click.request'] = { id: 'dist_01JABCDEFGHJKMNPQRSTVWXYZ0', cta_type: 'unknown' };
console.log('unknown click: ' + (validator.validate('op.track_enrollment_click.request', click).ok ? 'accepted' : 'rejected'));
console.log('zh-Hant: ' + (validator.validate('op.create.request', { course_id: 'c1', title: 'T', language: 'zh-Hant' }).ok ? 'accepted' : 'rejected'));

// The types are real, not any: a number is not a slug.
// @ts-expect-error slug is a string
const wrong: DistributionPublishedEvent['payload']['slug'] = 42;
void wrong;
`;

t.test('when a scratch project installs the tarball, then a strict consumer type-checks, validates and runs', async (t) => {
  if (!tarball) return t.fail('npm pack did not produce a tarball');
  const project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'contracts-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          resolveJsonModule: true,
          verbatimModuleSyntax: true,
          types: [],
          outDir: 'out',
        },
        include: ['consumer.ts'],
      },
      null,
      2,
    ),
  );
  writeFileSync(join(project, 'consumer.ts'), CONSUMER);

  const install = await run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
  if (!succeeded(t, 'npm install', install)) return;
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  t.match(manifest.dependencies, { '@course-distribution/contracts': /contracts-.*\.tgz$/ }, 'installed from the tarball');

  const tsc = await run(process.execPath, [TSC, '-p', join(project, 'tsconfig.json')], project);
  if (!succeeded(t, 'tsc', tsc)) return;

  const node = await run(process.execPath, [join(project, 'out', 'consumer.js')], project);
  if (!succeeded(t, 'node consumer.js', node)) return;
  const lines = node.stdout.trim().split('\n');
  t.same(lines, [
    'valid: distribution.published alternativen-banken-privatpersonen [neobanken,fintech,alternativen]',
    'parsed: dist_123abc',
    'invalid (when the payload misses seo): schema /payload: missing required field "seo"',
    'garbage: not_json',
    'schema: https://schemas.course-distribution.dev/v1/distribution.published.schema.json for distribution.published',
    `catalogue: 38 schemas, 9 produced events, version ${ROOT_VERSION}`,
    'unknown click: accepted',
    'zh-Hant: accepted',
  ]);
});
