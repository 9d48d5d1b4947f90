/**
 * Operator endpoints for parked outbox rows (rows the stream refused OUTBOX_MAX_ATTEMPTS times; README, "Events
 * out"), under `course_distribution.ops.<operation>`:
 * - `outbox_parked`  {limit?, after_id?} -> {items: [row], next_after_id}: oldest first, each with `blocked`, the
 *   later events of its distribution that wait behind it;
 * - `outbox_retry`   {id} -> {id, event_id, retried: true}: unparked with fresh attempts, the relay tries it at once
 *   (fix the cause first, e.g. the stream's max_msg_size);
 * - `outbox_discard` {id} -> {id, event_id, subject, discarded: true, envelope}: deleted, never published; the later
 *   events of its distribution are published. The envelope is in the reply and in the warn log line.
 * A row that is not parked is 404. Ids are the outbox ids of `outbox_parked` (strings of digits, or integers).
 */
import type { Service } from '@nats-io/services';
import { ServiceFailure } from '../errors.js';
import type { Sql } from '../persistence/database.js';
import { discardParked, listParked, retryParked } from '../persistence/parked-outbox.js';
import { addOpsEndpoint, parseBody, positiveInteger, type OpsEndpointsOptions } from './ops-endpoints.js';

type Body = Record<string, unknown>;

/** An outbox id (bigint) given as digits or as an integer. */
function outboxId(body: Body, field: string): string {
  const value = body[field];
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !/^[1-9][0-9]{0,18}$/.test(text)) {
    throw new ServiceFailure('VALIDATION_FAILED', `${field} must be an outbox id (a positive integer)`, [{ path: `/${field}`, reason: 'must be a positive integer' }]);
  }
  return text;
}

export function addOutboxOpsEndpoints(service: Service, options: Pick<OpsEndpointsOptions, 'subjectPrefix' | 'log' | 'endpointStats' | 'replies'> & { db: Sql }): void {
  const { db, log } = options;

  addOpsEndpoint(service, options, 'outbox_parked', async (msg) => {
    const body = parseBody(msg, ['limit', 'after_id']);
    const limit = positiveInteger(body, 'limit', 50, 500);
    const items = await listParked(db, { limit, afterId: body.after_id === undefined ? '0' : outboxId(body, 'after_id') });
    return { items, next_after_id: items.length === limit ? (items.at(-1)?.id ?? null) : null };
  });

  addOpsEndpoint(service, options, 'outbox_retry', async (msg) => {
    const id = outboxId(parseBody(msg, ['id']), 'id');
    const row = await retryParked(db, id);
    if (!row) throw new ServiceFailure('NOT_FOUND', `outbox row ${id} is not parked`);
    log.info({ outbox_id: row.id, event_id: row.event_id }, 'parked outbox row retried');
    return { ...row, retried: true };
  });

  addOpsEndpoint(service, options, 'outbox_discard', async (msg) => {
    const id = outboxId(parseBody(msg, ['id']), 'id');
    const row = await discardParked(db, id);
    if (!row) throw new ServiceFailure('NOT_FOUND', `outbox row ${id} is not parked`);
    log.warn({ outbox_id: row.id, event_id: row.event_id, subject: row.subject, envelope: row.envelope }, 'parked outbox row discarded: its event is never published');
    return { id: row.id, event_id: row.event_id, subject: row.subject, discarded: true, envelope: row.envelope };
  });
}
