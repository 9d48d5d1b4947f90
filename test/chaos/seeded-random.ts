/**
 * Seeded choices for the chaos run (pure-rand's xoroshiro128+): the same seed gives the same workload plan and
 * the same fault schedule. Timing still varies from run to run; the plan and the checks do not depend on it.
 */
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';

export interface Random {
  /** An integer in [from, to]. */
  int(from: number, to: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A new independent stream for a worker, derived from this one's seed and `salt`. */
  fork(salt: number): Random;
}

export function seededRandom(seed: number): Random {
  const rng: RandomGenerator = xoroshiro128plus(seed);
  const int = (from: number, to: number) => unsafeUniformIntDistribution(from, to, rng);
  return {
    int,
    chance: (p) => int(0, 999_999) < p * 1_000_000,
    pick: (items) => items[int(0, items.length - 1)]!,
    fork: (salt) => seededRandom((seed * 7919 + salt * 104_729) | 0),
  };
}
