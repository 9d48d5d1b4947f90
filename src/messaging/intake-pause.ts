/**
 * The consumer's pause while the database is down (NServiceBus's "automatic rate limiting"): `pause()` stops
 * intake at once (the pull loop ends its current pull), and `waitUntilOpen()` probes the database with a growing
 * delay until it answers, then lets intake resume. Messages in hand at the pause were nak'ed with a delay by their
 * settlement; none are pulled meanwhile, so none burn deliveries.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';

export interface IntakePauseOptions {
  /** Resolves when the database answers (e.g. `select 1`), rejects while it does not. */
  probe: () => Promise<unknown>;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Called when the pause begins: stop pulling. */
  onPause: () => void;
  /** Aborted at stop(): waiting ends without resuming. */
  signal: AbortSignal;
  log: Logger;
}

export interface IntakePause {
  readonly paused: boolean;
  pause(): void;
  /** Returns at once unless paused; else when the probe succeeds or the signal aborts. */
  waitUntilOpen(): Promise<void>;
}

export function createIntakePause(options: IntakePauseOptions): IntakePause {
  let paused = false;
  let pausedAt = 0;
  const wait = (ms: number) => sleep(ms, undefined, { signal: options.signal }).catch(() => undefined);

  return {
    get paused() {
      return paused;
    },
    pause() {
      if (paused) return;
      paused = true;
      pausedAt = Date.now();
      options.log.warn('database unavailable: consumption paused until it answers');
      options.onPause();
    },
    async waitUntilOpen() {
      let delay = options.retryBaseMs;
      while (paused && !options.signal.aborted) {
        try {
          await options.probe();
          paused = false;
          options.log.info({ paused_ms: Date.now() - pausedAt }, 'database answers again: consumption resumed');
        } catch {
          await wait(delay);
          delay = Math.min(delay * 2, options.retryMaxMs);
        }
      }
    },
  };
}
