/**
 * The stop's deadline (SHUTDOWN_TIMEOUT_MS): a stop that has not finished by then is abandoned, and what it
 * abandons (its step and the work still in flight) is logged, so the process can exit non-zero at once rather than
 * be killed by the orchestrator without a word. Nothing committed is lost by abandoning: unpublished outbox rows
 * wait for the next active relay, unacked messages are redelivered; what is lost is answers to requests in flight.
 */
import type { Logger } from 'pino';

export interface Stoppable {
  stop(): Promise<void>;
  /** What is left, as log fields; read only when the deadline passes. */
  pendingWork(): object;
}

/** Resolves true when `target.stop()` finished within `timeoutMs`, false when it failed or the deadline passed. */
export async function stopWithin(target: Stoppable, timeoutMs: number, log: Logger): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), timeoutMs)));
  const stopped = target.stop().then(
    () => 'stopped' as const,
    (err: unknown) => {
      log.error({ err }, 'unclean stop');
      return 'failed' as const;
    },
  );
  const outcome = await Promise.race([stopped, deadline]);
  clearTimeout(timer);
  if (outcome === 'deadline') log.error({ timeout_ms: timeoutMs, abandoned: target.pendingWork() }, 'stop did not finish within SHUTDOWN_TIMEOUT_MS; abandoning the rest');
  return outcome === 'stopped';
}
