/**
 * The producer side of the transactional outbox. Events are written into the caller's transaction, so they exist
 * exactly when the change they announce is committed; the relay publishes them afterwards.
 * Each envelope is validated against its schema first: an event the contract would reject is a bug, and the
 * whole transaction fails rather than store it.
 */
import type { Sql } from './database.js';
import type { ContractValidator } from '../contracts/validator.js';
import { formatIssues } from '../contracts/validator.js';
import { eventSubject, subjectIdOf } from '../contracts/envelope.js';
import type { EventEnvelope } from '../../generated/types.js';
import type { SchemaName } from '../../generated/schemas.js';

export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/** Outbox rows of validated envelopes, in order: the parameter of the statement that writeOutboxRows is part of. */
export interface OutboxBatch {
  json: string;
  size: number;
}

/** What a statement that writes outbox rows knows better than the batch (see writeOutboxRows). */
export interface OutboxRowsCompletion {
  /** A relation the rows `e` are joined with; a row without a partner is not written. */
  join?: string;
  /** The envelope to store instead of `e.envelope`, an SQL expression over `e` and the joined relation. */
  envelope?: string;
  /** A condition the rows are written under. */
  where?: string;
}

/**
 * The one writer of outbox rows: SQL that inserts the rows of an OutboxBatch parameter (`?`) in batch order, so ids
 * follow the order of the envelopes (the relay publishes in id order). Every column comes from toOutboxBatch,
 * which applies the subject rule; `completion` lets a larger statement decide which rows are written and fill in
 * what only it knows. A statement of its own (appendToOutbox) or a data-modifying part of a larger one.
 */
export function writeOutboxRows(completion: OutboxRowsCompletion = {}): string {
  return `
    insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope, created_at)
    select e.event_id, e.event_type, e.subject, e.aggregate_id, e.tenant_id, ${completion.envelope ?? 'e.envelope'}, e.created_at
      from rows from (jsonb_to_recordset(?::jsonb)
             as (event_id text, event_type text, subject text, aggregate_id text, tenant_id text, envelope jsonb, created_at timestamptz))
           with ordinality as e(event_id, event_type, subject, aggregate_id, tenant_id, envelope, created_at, position)
      ${completion.join ? `join ${completion.join}` : ''}
     ${completion.where ? `where ${completion.where}` : ''}
     order by e.position`;
}

/**
 * Validates the envelopes and turns them into outbox rows; throws InvalidEventError on the first invalid one. The
 * row's subject is eventSubject's, and its aggregate is the distribution named in the subject.
 */
export function toOutboxBatch(validator: ContractValidator, envelopes: readonly EventEnvelope[]): OutboxBatch {
  const rows = envelopes.map((envelope) => {
    const checked = validator.validate(envelope.type as SchemaName, envelope);
    if (!checked.ok) throw new InvalidEventError(`${envelope.type} ${envelope.id} violates its schema: ${formatIssues(checked.issues)}`);
    return {
      event_id: envelope.id,
      event_type: envelope.type,
      subject: eventSubject(envelope),
      aggregate_id: subjectIdOf(envelope),
      tenant_id: envelope.meta.tenant_id,
      envelope,
      created_at: envelope.timestamp,
    };
  });
  return { json: JSON.stringify(rows), size: rows.length };
}

/** Appends the envelopes to the outbox of the transaction `db`: one statement for any number of events. */
export async function appendToOutbox(db: Sql, validator: ContractValidator, envelopes: readonly EventEnvelope[]): Promise<void> {
  if (envelopes.length === 0) return;
  await db.execute(writeOutboxRows(), [toOutboxBatch(validator, envelopes).json]);
}
