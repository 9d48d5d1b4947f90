/**
 * The events a command causes, from the domain's drafts to the outbox of the command's transaction: each draft
 * becomes a Charter envelope with a new event id and the command's lineage.
 */
import type { Sql } from '../persistence/database.js';
import { buildEnvelope } from '../contracts/envelope.js';
import type { EventDraft } from '../domain/distribution.js';
import { appendToOutbox, toOutboxBatch, type OutboxBatch } from '../persistence/outbox.js';
import type { RequestContext, ServiceDeps } from './deps.js';

/**
 * Where a command's events come from: its tenant, its correlation, the command (or consumed event) that causes them
 * (their causation_id), and the time of the command (their timestamp).
 */
export interface EventLineage extends Pick<RequestContext, 'tenantId' | 'correlationId' | 'commandId'> {
  timestamp: string;
}

/** Wraps the domain's event drafts in Charter envelopes (new event ids; correlation, causation and time from `lineage`). */
function toEnvelopes(deps: ServiceDeps, lineage: EventLineage, drafts: readonly EventDraft[]) {
  return drafts.map((draft) =>
    buildEnvelope(draft, {
      eventId: deps.newId('evt'),
      timestamp: lineage.timestamp,
      tenantId: lineage.tenantId,
      correlationId: lineage.correlationId,
      causationId: lineage.commandId,
    }),
  );
}

/** Appends the drafts, as envelopes, to the outbox of the transaction `tx`. */
export async function recordEvents(deps: ServiceDeps, tx: Sql, lineage: EventLineage, drafts: readonly EventDraft[]): Promise<void> {
  await appendToOutbox(tx, deps.validator, toEnvelopes(deps, lineage, drafts));
}

/** The drafts as validated outbox rows, for a statement that writes them together with the change (insertDistribution). */
export function outboxBatchOf(deps: ServiceDeps, lineage: EventLineage, drafts: readonly EventDraft[]): OutboxBatch {
  return toOutboxBatch(deps.validator, toEnvelopes(deps, lineage, drafts));
}
