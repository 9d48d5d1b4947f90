import type { EntityManager } from '@mikro-orm/postgresql';
import { buildEnvelope } from '../contracts/envelope.js';
import type { EventDraft } from '../domain/distribution.js';
import { appendToOutbox } from '../persistence/outbox.js';
import type { RequestContext, ServiceDeps } from './deps.js';

/** Wraps the domain's event drafts in Charter envelopes and appends them to the outbox of the transaction `em`. */
export async function recordEvents(
  deps: ServiceDeps,
  em: EntityManager,
  context: Pick<RequestContext, 'tenantId' | 'correlationId' | 'commandId'>,
  drafts: readonly EventDraft[],
  timestamp: string,
): Promise<void> {
  const envelopes = drafts.map((draft) =>
    buildEnvelope(draft, {
      eventId: deps.newId('evt'),
      timestamp,
      tenantId: context.tenantId,
      correlationId: context.correlationId,
      causationId: context.commandId,
    }),
  );
  await appendToOutbox(em, deps.validator, envelopes);
}
