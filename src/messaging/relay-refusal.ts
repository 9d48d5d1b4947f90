/**
 * Which publish failures are the row's own fault: the stream (or the client, before sending) refuses this message
 * and would accept others. Only these count toward parking a row (OUTBOX_MAX_ATTEMPTS), and only past these does a
 * relay pass go on to the rest of the backlog. Everything else (no stream, a full stream, a foreign stream, NATS
 * unreachable, a timeout) is the same for every row: rows are kept and retried without end, never parked, so an
 * outage does not park the head of every distribution.
 */
import { JetStreamApiError } from '@nats-io/jetstream';

/** JetStream's "message size exceeds maximum allowed" (the stream's max_msg_size). */
const MESSAGE_TOO_LARGE = 10054;

export function isRowRefusal(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.code === MESSAGE_TOO_LARGE;
  // The client refuses a message larger than the server's max_payload before sending it.
  return err instanceof Error && err.name === 'InvalidArgumentError' && /max_payload/.test(err.message);
}
