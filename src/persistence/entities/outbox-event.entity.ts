import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * An event waiting to be published (or kept after publishing for OUTBOX_RETENTION_HOURS). Written in the same
 * transaction as the change it announces; the relay publishes rows in `id` order with Nats-Msg-Id = eventId.
 */
export const OutboxEventEntity = defineEntity({
  name: 'OutboxEvent',
  tableName: 'outbox_event',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    eventId: p.string().columnType('text'),
    eventType: p.string().columnType('text'),
    /** Subject without any deployment prefix: `<event type>.<distribution id>`. */
    subject: p.string().columnType('text'),
    aggregateId: p.string().columnType('text'),
    tenantId: p.string().columnType('text'),
    envelope: p.json<Record<string, unknown>>().columnType('jsonb'),
    createdAt: p.datetime().columnType('timestamptz').defaultRaw('now()'),
    publishedAt: p.datetime().columnType('timestamptz').nullable(),
    attempts: p.integer().default(0),
    lastError: p.string().columnType('text').nullable(),
    /** Set when the stream refused the row OUTBOX_MAX_ATTEMPTS times: skipped, with its distribution's later rows, until an operator acts. */
    parkedAt: p.datetime().columnType('timestamptz').nullable(),
  },
  uniques: [{ name: 'outbox_event_event_id_key', properties: ['eventId'] }],
  indexes: [
    { name: 'outbox_event_unpublished_idx', expression: 'create index outbox_event_unpublished_idx on outbox_event (id) where published_at is null' },
    {
      name: 'outbox_event_unpublished_aggregate_idx',
      expression: 'create index outbox_event_unpublished_aggregate_idx on outbox_event (aggregate_id, id) where published_at is null',
    },
    { name: 'outbox_event_parked_idx', expression: 'create index outbox_event_parked_idx on outbox_event (id) where parked_at is not null' },
    { name: 'outbox_event_published_at_idx', expression: 'create index outbox_event_published_at_idx on outbox_event (published_at) where published_at is not null' },
  ],
});

export type OutboxEventRow = InferEntity<typeof OutboxEventEntity>;
