// Builds @course-distribution/contracts: compiles src/contracts and generated/ (JS + .d.ts) into dist/ with the
// root's TypeScript and copies the JSON Schemas, their examples and the AsyncAPI document from ../../schemas.
// Run by `npm run build` and by `prepack`, so `npm pack` / `npm publish` always ship fresh output.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const log = (line) => process.stderr.write(`[contracts build] ${line}\n`);

const rootVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const ownVersion = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).version;
if (rootVersion !== ownVersion) {
  throw new Error(`package version ${ownVersion} differs from the service's ${rootVersion}; bump packages/contracts/package.json`);
}

for (const dir of ['dist', 'schemas']) rmSync(join(here, dir), { recursive: true, force: true });

cpSync(join(root, 'schemas'), join(here, 'schemas'), {
  recursive: true,
  filter: (src) => !/(^|[\\/])\.[^\\/]+$/.test(src.slice(root.length)), // no dotfiles
});
if (!existsSync(join(here, 'schemas', 'asyncapi.yaml'))) log('note: schemas/asyncapi.yaml not found; shipping without it');

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) throw new Error(`TypeScript not found at ${tsc}; run npm install in ${root}`);
log('tsc -p packages/contracts/tsconfig.json');
// stdout of tsc goes to stderr: `npm pack --json` owns stdout.
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { cwd: here, stdio: ['ignore', 2, 2] });
log('done');
