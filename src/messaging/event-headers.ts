/**
 * The NATS headers of an event we publish: `Nats-Msg-Id` = envelope id (JetStream drops a second copy inside the
 * stream's duplicate window, which makes re-publishing from the outbox safe), `Content-Type`, and the CloudEvents
 * binary-mode attributes (NATS protocol binding: `ce-` prefixed headers, the body is the data), so CloudEvents
 * tooling reads our events as they are. `schemas/asyncapi.yaml` (EventHeaders) documents the same set.
 */
import { headers, type MsgHdrs } from '@nats-io/nats-core';

export interface PublishedEventFacts {
  eventId: string;
  eventType: string;
  /** The distribution the event is about (the child's id for distribution.micro_niche_created). */
  aggregateId: string;
  /** The envelope timestamp, RFC 3339. */
  time: string;
}

export function eventHeaders(event: PublishedEventFacts, ceSource: string): MsgHdrs {
  const h = headers();
  h.set('Nats-Msg-Id', event.eventId);
  h.set('Content-Type', 'application/json');
  h.set('ce-specversion', '1.0');
  h.set('ce-id', event.eventId);
  h.set('ce-type', event.eventType);
  h.set('ce-source', ceSource);
  h.set('ce-time', event.time);
  h.set('ce-subject', event.aggregateId);
  return h;
}
