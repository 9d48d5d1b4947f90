/**
 * The log line of a consumed message: one per message, written by the consumer when it has settled it (acked,
 * nak'ed or dead-lettered), with the message's ids, its outcome, delivery count and duration (README "Logs").
 *
 * Levels: every message we consume is logged at `info` or above (the volume is one message per generated or
 * deployed course, low enough to keep them all): `applied`, `no-op` and `duplicate` at `info`, `retry` and
 * `dead_lettered` at `warn`. Only `ignored` (other `course.*` events, whose volume is CourseFactory's) is `debug`.
 */
import type { ProcessOutcome } from '../application/upstream-message.js';

/** How a message was settled: processed (then acked), retried (nak with a delay) or dead-lettered (term). */
export type ConsumedOutcome = ProcessOutcome | 'retry' | 'dead_lettered';

/** The fields of a consumed message's line; ids stay unset when the message could not be decoded. */
export interface ConsumedLogFields {
  subject: string;
  stream_seq: number;
  /** The dedup key (Nats-Msg-Id, else envelope id, else stream:sequence); the Nats-Msg-Id header when undecodable. */
  message_id?: string;
  event_id?: string;
  course_id?: string;
  outcome?: ConsumedOutcome;
  delivery_count: number;
  duration_ms?: number;
  /** A failed message: the failure policy's code, the nak delay or the dead letter. */
  code?: string;
  retry_in_ms?: number;
  dead_letter_id?: number;
  reason?: string;
  err?: unknown;
}

export function consumedLogLevel(outcome: ConsumedOutcome): 'debug' | 'info' | 'warn' {
  switch (outcome) {
    case 'applied':
    case 'no-op':
    case 'duplicate':
      return 'info';
    case 'ignored':
      return 'debug';
    case 'retry':
    case 'dead_lettered':
      return 'warn';
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown outcome ${String(unknown)}`);
    }
  }
}
