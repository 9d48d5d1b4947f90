/**
 * The chaos run's short profile inside the test suite: one seeded run on one topology, its counters asserted to be
 * 0 and what it checked asserted to be real work (acknowledged requests, retried ones, faults, dead letters).
 * CHAOS_SEED picks another seed; CHAOS_DURATION_S a longer workload.
 */
import type { Test } from 'tap';
import type { Topology } from './private-nats.js';
import { discardRunDir, runChaos } from './run-chaos.js';

export async function chaosProfile(t: Test, topology: Topology): Promise<void> {
  const seed = Number(process.env.CHAOS_SEED ?? 7);
  const durationMs = Number(process.env.CHAOS_DURATION_S ?? 15) * 1000;
  const report = await runChaos({ seed, topology, durationMs });
  const { counts, checked, problems } = report.findings;
  const replay = `seed ${seed}; replay: npm run chaos -- --seed ${seed} --topology ${topology} --duration ${durationMs / 1000}; ledger and logs: ${report.runDir}`;
  t.same(counts, { lost: 0, duplicated: 0, out_of_order: 0, stuck: 0, forged: 0, unexpected: 0 }, `${problems.slice(0, 20).join('\n')}\n${replay}`);
  t.ok(checked.acknowledged! > 100, `real work was acknowledged (${checked.acknowledged})`);
  t.ok(checked.faults! >= 4, `every kind of fault was injected (${checked.faults})`);
  t.ok(checked.dead_letters! >= 1 || checked.course_events! < 20, `poison was dead-lettered (${checked.dead_letters})`);
  t.ok(checked.events! > checked.pages!, `events reached the stream (${checked.events})`);
  discardRunDir(report);
}
