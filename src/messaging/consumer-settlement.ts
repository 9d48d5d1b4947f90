/**
 * What the consumer does with a message that failed: a pure function of the failure's outcome (failure-policy.ts),
 * the delivery count and the delivery limits, so every case is tested without NATS.
 * - `reject` (can never pass as it is) -> dead-letter, then term();
 * - anything else -> nak(delay) and let JetStream redeliver, until the last delivery the service allows, which is
 *   dead-lettered instead;
 * - a database that cannot serve (unreachable, read-only, out of resources) also pauses intake, so an outage does
 *   not burn every message's deliveries.
 *
 * Two limits: the service's own (CONSUMER_MAX_DELIVER) and the durable's max_deliver as the server has it (the
 * durable we create has none, -1, so the server never drops a message). The lower one ends the retries. Past the
 * service's limit the server still redelivers, so a dead letter that could not be stored is retried with the
 * message; only on the server's last delivery must the message stay in hand until its dead letter is stored.
 */
import type { FailureOutcome } from '../failure-policy.js';

export interface DeliveryLimits {
  /** The service's limit: CONSUMER_MAX_DELIVER. */
  maxDeliver: number;
  /** The durable's max_deliver as the server has it; -1 (or 0) is unlimited. */
  serverMaxDeliver: number;
}

/**
 * `retry`: nak(delay). `dead-letter`: store the dead letter, then term(); `lastDelivery` says the server will not
 * deliver it again, so a dead letter that cannot be stored must not be given up with a nak.
 */
export type Settlement = { action: 'retry'; pauseIntake: boolean } | { action: 'dead-letter'; reason: string; lastDelivery: boolean };

/** The delivery on which a message that keeps failing is dead-lettered: the lower of the two limits. */
export function deadLetterDelivery(limits: DeliveryLimits): number {
  return limits.serverMaxDeliver > 0 ? Math.min(limits.maxDeliver, limits.serverMaxDeliver) : limits.maxDeliver;
}

/** The server will not deliver the message again after this delivery. */
export function isServerLastDelivery(deliveryCount: number, limits: DeliveryLimits): boolean {
  return limits.serverMaxDeliver > 0 && deliveryCount >= limits.serverMaxDeliver;
}

/** `description` says what failed; it becomes the dead letter's reason. */
export function settleFailure(outcome: FailureOutcome, deliveryCount: number, limits: DeliveryLimits, description: string): Settlement {
  const lastDelivery = isServerLastDelivery(deliveryCount, limits);
  switch (outcome.disposition) {
    case 'reject':
      return { action: 'dead-letter', reason: description, lastDelivery };
    case 'retry-now':
    case 'retry-later':
    case 'fail':
      if (deliveryCount >= deadLetterDelivery(limits)) {
        return { action: 'dead-letter', reason: `gave up after ${deliveryCount} deliveries: ${description}`, lastDelivery };
      }
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
