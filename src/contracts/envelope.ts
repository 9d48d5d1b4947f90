/**
 * Builds the Charter v1.0 envelope of an event we publish, and its subject.
 * correlation_id: from the request or consumed event that started the flow (a new one when none came);
 * causation_id: the id of the command or consumed event that caused this event.
 */
import type { EventEnvelope } from '../../generated/types.js';

export const EVENT_META = { schema_version: '1.0', producer: 'course_distribution', source_module: 'course_distribution' } as const;

export interface EventDraftLike {
  type: string;
  payload: object;
}

export interface EnvelopeContext {
  eventId: string;
  timestamp: string;
  tenantId: string;
  correlationId: string;
  causationId: string | null;
}

export function buildEnvelope<D extends EventDraftLike>(draft: D, context: EnvelopeContext): EventEnvelope & D {
  return {
    id: context.eventId,
    type: draft.type,
    timestamp: context.timestamp,
    payload: draft.payload,
    meta: {
      ...EVENT_META,
      tenant_id: context.tenantId,
      correlation_id: context.correlationId,
      causation_id: context.causationId,
    },
    target: null,
  } as EventEnvelope & D;
}

/** The distribution an event is about: the child's id for distribution.micro_niche_created. */
export function subjectIdOf(draft: EventDraftLike): string {
  const payload = draft.payload as { distribution_id?: string; child_distribution_id?: string };
  const id = payload.distribution_id ?? payload.child_distribution_id;
  if (!id) throw new Error(`${draft.type} has no distribution id`);
  return id;
}

/**
 * The subject rule of the events we publish: `<event type>.<distribution id>`, e.g. distribution.published.dist_01J...
 * (before any deployment prefix). The one place it is applied is the outbox row (toOutboxBatch).
 */
export function eventSubject(draft: EventDraftLike): string {
  return `${draft.type}.${subjectIdOf(draft)}`;
}
