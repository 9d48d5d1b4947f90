/**
 * appendToOutbox: the producer side of the transactional outbox. Writes the events into the caller's transaction,
 * so they exist exactly when the change they announce is committed; the relay publishes them afterwards.
 * Each envelope is validated against its schema first: an event the contract would reject is a bug, and the
 * whole transaction fails rather than store it.
 */
import type { EntityManager, RequiredEntityData } from '@mikro-orm/postgresql';
import type { ContractValidator } from '../contracts/validator.js';
import { formatIssues } from '../contracts/validator.js';
import { eventSubject } from '../contracts/envelope.js';
import type { EventEnvelope } from '../../generated/types.js';
import type { SchemaName } from '../../generated/schemas.js';
import { OutboxEventEntity, type OutboxEventRow } from './entities/outbox-event.entity.js';

export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

export async function appendToOutbox(em: EntityManager, validator: ContractValidator, envelopes: readonly EventEnvelope[]): Promise<void> {
  if (envelopes.length === 0) return;
  const rows = envelopes.map((envelope): RequiredEntityData<OutboxEventRow> => {
    const checked = validator.validate(envelope.type as SchemaName, envelope);
    if (!checked.ok) throw new InvalidEventError(`${envelope.type} ${envelope.id} violates its schema: ${formatIssues(checked.issues)}`);
    return {
      eventId: envelope.id,
      eventType: envelope.type,
      subject: eventSubject(envelope),
      aggregateId: eventSubject(envelope).slice(envelope.type.length + 1),
      tenantId: envelope.meta.tenant_id,
      envelope: envelope as unknown as Record<string, unknown>,
      createdAt: new Date(envelope.timestamp),
    };
  });
  await em.insertMany<OutboxEventRow>(OutboxEventEntity, rows);
}
