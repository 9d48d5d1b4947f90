/**
 * `npm run bench:ranges [-- --runs 3] [-- --only <scenario>]`: runs `npm run bench` (`bench/run.ts --json`) several
 * times, one process after the other, and prints for every figure the range over the runs: the ratio and both
 * throughputs, min-max. With `--json`, one JSON object per figure with the runs' values as arrays.
 */
import { spawnSync } from 'node:child_process';
import type { ScenarioResult } from './measure.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const runs = Number(arg('--runs') ?? 3);
const only = arg('--only');
const json = process.argv.includes('--json');

const figures = new Map<string, ScenarioResult[]>();
for (let run = 1; run <= runs; run++) {
  process.stderr.write(`run ${run} of ${runs}\n`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', new URL('./run.ts', import.meta.url).pathname, '--json', ...(only ? ['--only', only] : [])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`run ${run} failed (exit ${child.status})`);
  const results = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ScenarioResult[];
  for (const result of results) {
    const key = `${result.scenario} | ${result.baseline}`;
    figures.set(key, [...(figures.get(key) ?? []), result]);
  }
}

const range = (values: number[]) => {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? String(low) : `${low}-${high}`;
};
if (json) {
  const rows = [...figures.values()].map((results) => ({
    scenario: results[0]!.scenario,
    baseline: results[0]!.baseline,
    target: results[0]!.target,
    ratio: results.map((r) => r.ratio),
    ops_per_s: results.map((r) => r.ops_per_s),
    baseline_ops_per_s: results.map((r) => r.baseline_ops_per_s),
    errors: results.map((r) => r.errors),
  }));
  process.stdout.write(`${JSON.stringify(rows)}\n`);
} else {
  console.table(
    [...figures.values()].map((results) => ({
      scenario: results[0]!.scenario,
      'ops/s': range(results.map((r) => r.ops_per_s)),
      baseline: results[0]!.baseline,
      'baseline ops/s': range(results.map((r) => r.baseline_ops_per_s)),
      ratio: range(results.map((r) => r.ratio)),
      target: results[0]!.target > 0 ? `>= ${results[0]!.target}` : 'reference',
      'met in every run': results[0]!.target > 0 ? (results.every((r) => r.ratio >= r.target) ? 'yes' : 'NO') : '-',
      errors: results.reduce((n, r) => n + r.errors, 0),
    })),
  );
}
