/**
 * `npm run chaos -- [--seed N] [--runs K] [--topology single|cluster|both] [--duration SECONDS] [--json]`
 *
 * Runs the chaos rig (test/chaos/run-chaos.ts) for K seeds from N (default: a random seed, one run) on each
 * topology, prints each run's counters with its seed, and exits 1 at the first failed run, naming the seed and
 * the ledger so it can be replayed with `--seed`.
 */
import { parseArgs } from 'node:util';
import { discardRunDir, runChaos, type ChaosReport } from '../test/chaos/run-chaos.js';
import type { Topology } from '../test/chaos/private-nats.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    runs: { type: 'string', default: '1' },
    topology: { type: 'string', default: 'both' },
    duration: { type: 'string', default: '60' },
    json: { type: 'boolean', default: false },
  },
});
const firstSeed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 1_000_000);
const runs = Number(values.runs);
const durationMs = Number(values.duration) * 1000;
const topologies: Topology[] = values.topology === 'both' ? ['single', 'cluster'] : [values.topology as Topology];
if (!Number.isInteger(firstSeed) || !Number.isInteger(runs) || runs < 1 || !(durationMs > 0) || !topologies.every((t) => t === 'single' || t === 'cluster')) {
  console.error('usage: npm run chaos -- [--seed N] [--runs K] [--topology single|cluster|both] [--duration SECONDS] [--json]');
  process.exit(2);
}

const print = (report: ChaosReport) => {
  if (values.json) {
    console.log(JSON.stringify(report));
    return;
  }
  const c = report.findings.counts;
  console.log(
    `${report.passed ? 'PASS' : 'FAIL'} ${report.topology} seed ${report.seed} (${report.seconds} s): lost: ${c.lost}, duplicated: ${c.duplicated}, out of order: ${c.out_of_order}, stuck: ${c.stuck}, forged: ${c.forged}, unexpected: ${c.unexpected}`,
  );
  console.log(
    `  checked: ${Object.entries(report.findings.checked)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  for (const problem of report.findings.problems.slice(0, 30)) console.log(`  - ${problem}`);
  if (!report.passed)
    console.log(`  replay: npm run chaos -- --seed ${report.seed} --topology ${report.topology} --duration ${values.duration}; ledger and logs: ${report.runDir}`);
};

for (let seed = firstSeed; seed < firstSeed + runs; seed++) {
  for (const topology of topologies) {
    const report = await runChaos({ seed, topology, durationMs, progress: values.json ? undefined : (line) => console.log(`  ${line}`) });
    print(report);
    discardRunDir(report);
    if (!report.passed) process.exit(1);
  }
}
