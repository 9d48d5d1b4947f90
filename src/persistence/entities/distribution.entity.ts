import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import type { Cta, Seo } from '../../../generated/types.js';

/**
 * A distribution row. Deleted distributions keep their row (deleted_at, deleted_by) for audit; every query of the
 * API filters `deleted_at is null`, and the slug is unique among live rows of a tenant only, so it is reusable.
 * `rowVersion` is the optimistic lock, bumped by every versioned update; `version` is the domain label v1, v2, ...
 */
export const DistributionEntity = defineEntity({
  name: 'Distribution',
  tableName: 'distribution',
  properties: {
    id: p.string().columnType('text').primary(),
    tenantId: p.string().columnType('text'),
    courseId: p.string().columnType('text'),
    slug: p.string().columnType('text'),
    language: p.string().columnType('text'),
    title: p.string().columnType('text'),
    description: p.string().columnType('text'),
    targetGroup: p.array().columnType('text[]'),
    visibility: p.enum(['private', 'public'] as const),
    version: p.string().columnType('text'),
    derivedFrom: p.string().columnType('text').nullable(),
    seo: p.json<Seo>().columnType('jsonb'),
    cta: p.json<Cta>().columnType('jsonb'),
    stagingUrl: p.string().columnType('text').nullable(),
    stagingDeployedAt: p.datetime().columnType('timestamptz').nullable(),
    viewCount: p.bigint('number').default(0),
    enrollmentCount: p.bigint('number').default(0),
    rowVersion: p.integer().version(),
    publishedAt: p.datetime().columnType('timestamptz').nullable(),
    createdAt: p.datetime().columnType('timestamptz'),
    updatedAt: p.datetime().columnType('timestamptz'),
    deletedAt: p.datetime().columnType('timestamptz').nullable(),
    deletedBy: p.string().columnType('text').nullable(),
  },
});

export type DistributionRow = InferEntity<typeof DistributionEntity>;
