import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * Views or clicks of one distribution and category counted and not yet announced: written by the statement that
 * counts them (so a crash or a stop loses no announcement), deleted by the one that announces them.
 */
export const CounterPendingEntity = defineEntity({
  name: 'CounterPending',
  tableName: 'counter_pending',
  properties: {
    distributionId: p.string().columnType('text').primary(),
    /** `views` or `clicks`. */
    kind: p.string().columnType('text').primary(),
    /** The referrer_category of views, the cta_type of clicks. */
    category: p.string().columnType('text').primary(),
    tenantId: p.string().columnType('text'),
    n: p.bigint('number'),
    /** When the first of them was counted (the database's clock): the window they are announced after. */
    firstAt: p.datetime().columnType('timestamptz'),
    /** When the last of them was counted (the service's clock): the event's viewed_at / clicked_at. */
    lastAt: p.datetime().columnType('timestamptz'),
  },
});

export type CounterPendingRow = InferEntity<typeof CounterPendingEntity>;
