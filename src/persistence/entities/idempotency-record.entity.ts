import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * The first result of a request that carried an idempotency key, per tenant and operation. Written in the
 * transaction of the effect, so a retry either finds it (and gets the same answer) or the effect never happened.
 */
export const IdempotencyRecordEntity = defineEntity({
  name: 'IdempotencyRecord',
  tableName: 'idempotency_record',
  properties: {
    tenantId: p.string().columnType('text').primary(),
    operation: p.string().columnType('text').primary(),
    key: p.string().columnType('text').primary(),
    /** Hash of the request body (without correlation_id): the same key with another body is a 409. */
    requestHash: p.string().columnType('text'),
    response: p.json<Record<string, unknown>>().columnType('jsonb'),
    createdAt: p.datetime().columnType('timestamptz').defaultRaw('now()'),
  },
  indexes: [{ name: 'idempotency_record_created_at_idx', properties: ['createdAt'] }],
});

export type IdempotencyRecordRow = InferEntity<typeof IdempotencyRecordEntity>;
