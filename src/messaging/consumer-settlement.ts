/**
 * What the consumer does with a message that failed: a pure function of the failure's outcome (failure-policy.ts),
 * the delivery count and `max_deliver`, so every case is tested without NATS.
 * - `reject` (can never pass as it is) -> dead-letter, then term();
 * - anything else -> nak(delay) and let JetStream redeliver, until the last allowed delivery, which is
 *   dead-lettered instead (JetStream would otherwise drop it silently after max_deliver);
 * - a database that cannot be reached also pauses intake, so an outage does not burn every message's deliveries.
 */
import type { FailureOutcome } from '../failure-policy.js';

export type Settlement = { action: 'retry'; pauseIntake: boolean } | { action: 'dead-letter'; reason: string };

/** `description` says what failed; it becomes the dead letter's reason. */
export function settleFailure(outcome: FailureOutcome, deliveryCount: number, maxDeliver: number, description: string): Settlement {
  switch (outcome.disposition) {
    case 'reject':
      return { action: 'dead-letter', reason: description };
    case 'retry-now':
    case 'retry-later':
    case 'fail':
      if (deliveryCount >= maxDeliver) return { action: 'dead-letter', reason: `gave up after ${deliveryCount} deliveries: ${description}` };
      return { action: 'retry', pauseIntake: outcome.databaseUnavailable };
    default: {
      const unknown: never = outcome.disposition;
      throw new Error(`unknown disposition ${String(unknown)}`);
    }
  }
}

export interface RetryDelaySettings {
  retryBaseMs: number;
  retryMaxMs: number;
}

/** The nak delay: doubling with each delivery from `retryBaseMs`, capped at `retryMaxMs`, with +-20 % jitter. */
export function retryDelay(deliveryCount: number, settings: RetryDelaySettings, random: () => number = Math.random): number {
  const exponential = settings.retryBaseMs * 2 ** Math.max(0, deliveryCount - 1);
  return Math.round(Math.min(settings.retryMaxMs, exponential) * (0.8 + random() * 0.4));
}
