import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

t.test('when generate:check runs, then generated/ matches schemas/', async (t) => {
  const result = await run(process.execPath, ['--import', 'tsx', 'scripts/generate.ts', '--check'], { cwd: root }).catch((err: { code: number; stderr: string }) => err);
  t.equal('code' in result ? result.code : 0, 0, 'stderr' in result ? result.stderr : 'fresh');
});
