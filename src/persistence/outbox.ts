/**
 * The producer side of the transactional outbox. Events are written into the caller's transaction, so they exist
 * exactly when the change they announce is committed; the relay publishes them afterwards.
 * Each envelope is validated against its schema first: an event the contract would reject is a bug, and the
 * whole transaction fails rather than store it.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ContractValidator } from '../contracts/validator.js';
import { formatIssues } from '../contracts/validator.js';
import { eventSubject } from '../contracts/envelope.js';
import type { EventEnvelope } from '../../generated/types.js';
import type { SchemaName } from '../../generated/schemas.js';

export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/** Outbox rows of validated envelopes, as one JSON parameter for OUTBOX_INSERT_FROM_JSON. */
export interface OutboxBatch {
  json: string;
  size: number;
}

/**
 * Inserts the rows of one JSON parameter in their given order, so ids follow the order of the envelopes: the relay
 * publishes in id order. A statement of its own, or a part of a larger one (see insertDistribution).
 */
export const OUTBOX_INSERT_FROM_JSON = `
  insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope, created_at)
  select event_id, event_type, subject, aggregate_id, tenant_id, envelope, created_at
    from rows from (jsonb_to_recordset(?::jsonb)
           as (event_id text, event_type text, subject text, aggregate_id text, tenant_id text, envelope jsonb, created_at timestamptz))
         with ordinality as e(event_id, event_type, subject, aggregate_id, tenant_id, envelope, created_at, position)`;

/** Validates the envelopes and turns them into outbox rows; throws InvalidEventError on the first invalid one. */
export function toOutboxBatch(validator: ContractValidator, envelopes: readonly EventEnvelope[]): OutboxBatch {
  const rows = envelopes.map((envelope) => {
    const checked = validator.validate(envelope.type as SchemaName, envelope);
    if (!checked.ok) throw new InvalidEventError(`${envelope.type} ${envelope.id} violates its schema: ${formatIssues(checked.issues)}`);
    const subject = eventSubject(envelope);
    return {
      event_id: envelope.id,
      event_type: envelope.type,
      subject,
      aggregate_id: subject.slice(envelope.type.length + 1),
      tenant_id: envelope.meta.tenant_id,
      envelope,
      created_at: envelope.timestamp,
    };
  });
  return { json: JSON.stringify(rows), size: rows.length };
}

/** Appends the envelopes to the outbox of the transaction `em`: one statement for any number of events. */
export async function appendToOutbox(em: EntityManager, validator: ContractValidator, envelopes: readonly EventEnvelope[]): Promise<void> {
  if (envelopes.length === 0) return;
  await em.execute(`${OUTBOX_INSERT_FROM_JSON} order by position`, [toOutboxBatch(validator, envelopes).json], 'run');
}
