import type { EntityManager } from '@mikro-orm/postgresql';
import { buildEnvelope } from '../contracts/envelope.js';
import type { EventDraft } from '../domain/distribution.js';
import { appendToOutbox, toOutboxBatch, type OutboxBatch } from '../persistence/outbox.js';
import type { RequestContext, ServiceDeps } from './deps.js';

type Lineage = Pick<RequestContext, 'tenantId' | 'correlationId' | 'commandId'>;

/** Wraps the domain's event drafts in Charter envelopes (new event ids; correlation and causation from the context). */
export function toEnvelopes(deps: ServiceDeps, context: Lineage, drafts: readonly EventDraft[], timestamp: string) {
  return drafts.map((draft) =>
    buildEnvelope(draft, {
      eventId: deps.newId('evt'),
      timestamp,
      tenantId: context.tenantId,
      correlationId: context.correlationId,
      causationId: context.commandId,
    }),
  );
}

/** Appends the drafts, as envelopes, to the outbox of the transaction `em`. */
export async function recordEvents(deps: ServiceDeps, em: EntityManager, context: Lineage, drafts: readonly EventDraft[], timestamp: string): Promise<void> {
  await appendToOutbox(em, deps.validator, toEnvelopes(deps, context, drafts, timestamp));
}

/** The drafts as validated outbox rows, for a statement that writes them together with the change (insertDistribution). */
export function outboxBatchOf(deps: ServiceDeps, context: Lineage, drafts: readonly EventDraft[], timestamp: string): OutboxBatch {
  return toOutboxBatch(deps.validator, toEnvelopes(deps, context, drafts, timestamp));
}
