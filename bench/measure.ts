/** Closed-loop load: `concurrency` workers each run `op` back to back until `total` operations are done. */
export interface Measurement {
  ops: number;
  errors: number;
  seconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export async function measure(op: (i: number) => Promise<unknown>, options: { total: number; concurrency: number }): Promise<Measurement> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < options.total) {
      const i = next++;
      const t0 = performance.now();
      try {
        await op(i);
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { ops: latencies.length, errors, seconds, opsPerSecond: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/**
 * Measures several operations in `rounds` alternating slices (a, b, c, a, b, c, ...), `total` operations each in
 * all, and adds each one's slices up: on a machine whose load drifts, each sees the same mix of quiet and busy
 * moments, so their ratios hold better than those of measurements taken one after the other.
 */
export async function measureInterleaved<K extends string>(
  ops: Record<K, (i: number) => Promise<unknown>>,
  options: { total: number; concurrency: number; rounds: number },
): Promise<Record<K, Measurement>> {
  const slices = {} as Record<K, Measurement[]>;
  const names = Object.keys(ops) as K[];
  for (let round = 0; round < options.rounds; round++) {
    for (const name of names) {
      const slice = await measure((i) => ops[name](round * options.total + i), { total: Math.ceil(options.total / options.rounds), concurrency: options.concurrency });
      (slices[name] ??= []).push(slice);
    }
  }
  const merged = {} as Record<K, Measurement>;
  for (const name of names) {
    const parts = slices[name];
    const ops = parts.reduce((n, m) => n + m.ops, 0);
    const seconds = parts.reduce((n, m) => n + m.seconds, 0);
    const median = (pick: (m: Measurement) => number) => parts.map(pick).sort((a, b) => a - b)[Math.floor(parts.length / 2)] ?? 0;
    merged[name] = { ops, errors: parts.reduce((n, m) => n + m.errors, 0), seconds, opsPerSecond: ops / seconds, p50Ms: median((m) => m.p50Ms), p99Ms: median((m) => m.p99Ms) };
  }
  return merged;
}

export interface ScenarioResult {
  scenario: string;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  baseline: string;
  baseline_ops_per_s: number;
  ratio: number;
  target: number;
  errors: number;
}

export function compare(scenario: string, result: Measurement, baseline: string, base: Measurement, target: number): ScenarioResult {
  const round = (n: number, digits = 2) => Number(n.toFixed(digits));
  return {
    scenario,
    ops_per_s: round(result.opsPerSecond, 0),
    p50_ms: round(result.p50Ms),
    p99_ms: round(result.p99Ms),
    baseline,
    baseline_ops_per_s: round(base.opsPerSecond, 0),
    ratio: round(result.opsPerSecond / base.opsPerSecond),
    target,
    errors: result.errors + base.errors,
  };
}

export function printTable(results: readonly ScenarioResult[]): void {
  const rows = results.map((r) => ({
    scenario: r.scenario,
    'ops/s': r.ops_per_s,
    'p50 ms': r.p50_ms,
    'p99 ms': r.p99_ms,
    baseline: r.baseline,
    'baseline ops/s': r.baseline_ops_per_s,
    ratio: r.ratio,
    target: r.target > 0 ? `>= ${r.target}` : 'reference',
    met: r.target > 0 ? (r.ratio >= r.target ? 'yes' : 'NO') : '-',
    errors: r.errors,
  }));
  console.table(rows);
}

/** The baselines' transaction: raw `pg`, begin / work / commit (rollback on error) on a pooled client. */
export async function inRawTransaction<T>(pool: { connect(): Promise<RawClient> }, work: (client: RawClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback');
    throw err;
  } finally {
    client.release();
  }
}

export interface RawClient {
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null }>;
  release(): void;
}

/** Rounds measured one after the other, as one measurement: totals summed, median p50, worst p99. */
export function merged(rounds: readonly Measurement[]): Measurement {
  const ops = rounds.reduce((n, r) => n + r.ops, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const p50s = rounds.map((r) => r.p50Ms).sort((a, b) => a - b);
  return {
    ops,
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    seconds,
    opsPerSecond: ops / seconds,
    p50Ms: p50s[Math.floor(p50s.length / 2)] ?? 0,
    p99Ms: Math.max(...rounds.map((r) => r.p99Ms)),
  };
}

/**
 * Measures several contenders in `rounds` rounds, each round starting with the next contender (0, 1, 2, then
 * 1, 2, 0, ...), so drift of a shared machine falls on all of them alike; returns each one's rounds merged.
 */
export async function inRounds(contenders: ReadonlyArray<(round: number) => Promise<Measurement>>, rounds: number): Promise<Measurement[]> {
  const measured: Measurement[][] = contenders.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const which = (round + k) % contenders.length;
      measured[which]!.push(await contenders[which]!(round));
    }
  }
  return measured.map(merged);
}
