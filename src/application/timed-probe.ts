/**
 * One bounded look at a dependency for `ops.health` / `ops.status`: the outcome as a value (never a rejection),
 * how long it took, and a timeout, so one hanging dependency cannot hold the whole answer past the caller's wait.
 */

export type ProbeResult<T> = { ok: true; value: T; latencyMs: number } | { ok: false; error: string; latencyMs: number };

/** Runs `work`; fails with "timed out after N ms" when it takes longer than `timeoutMs` (the work is not cancelled). */
export async function timedProbe<T>(work: () => Promise<T>, timeoutMs: number): Promise<ProbeResult<T>> {
  const begun = process.hrtime.bigint();
  const elapsed = () => Math.round(Number(process.hrtime.bigint() - begun) / 1e5) / 10;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const value = await Promise.race([work(), timeout]);
    return { ok: true, value, latencyMs: elapsed() };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err), latencyMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}
