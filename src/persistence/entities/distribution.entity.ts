import { defineEntity, p, type EntitySchema, type InferEntity } from '@mikro-orm/core';
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
    description: p.string().columnType('text').default(''),
    targetGroup: p.array().columnType('text[]').defaultRaw(`'{}'`),
    visibility: p.enum(['private', 'public'] as const).default('private'),
    version: p.string().columnType('text').default('v1'),
    /** The parent of a micro-niche variant (a self-reference, hence the entity named by string). */
    derivedFrom: p
      .manyToOne('Distribution' as unknown as EntitySchema<{ id: string }>)
      .fieldName('derived_from')
      .foreignKeyName('distribution_derived_from_fkey')
      .deleteRule('no action')
      .updateRule('no action')
      .nullable(),
    seo: p.json<Seo>().columnType('jsonb').defaultRaw(`'{}'`),
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
  // Partial indexes (live rows only), as the migrations create them; one per query of the API.
  indexes: [
    { name: 'distribution_tenant_id_live_idx', expression: 'create index distribution_tenant_id_live_idx on distribution (tenant_id, id) where deleted_at is null' },
    {
      name: 'distribution_tenant_course_live_idx',
      expression: 'create index distribution_tenant_course_live_idx on distribution (tenant_id, course_id, id) where deleted_at is null',
    },
    {
      name: 'distribution_tenant_visibility_live_idx',
      expression: 'create index distribution_tenant_visibility_live_idx on distribution (tenant_id, visibility, id) where deleted_at is null',
    },
    { name: 'distribution_target_group_live_idx', expression: 'create index distribution_target_group_live_idx on distribution using gin (target_group) where deleted_at is null' },
    { name: 'distribution_derived_from_live_idx', expression: 'create index distribution_derived_from_live_idx on distribution (derived_from, id) where deleted_at is null' },
    { name: 'distribution_course_live_idx', expression: 'create index distribution_course_live_idx on distribution (course_id) where deleted_at is null' },
    {
      name: 'distribution_course_root_live_idx',
      expression: 'create index distribution_course_root_live_idx on distribution (course_id, tenant_id) where derived_from is null and deleted_at is null',
    },
  ],
  uniques: [
    { name: 'distribution_tenant_slug_live_uq', expression: 'create unique index distribution_tenant_slug_live_uq on distribution (tenant_id, slug) where deleted_at is null' },
  ],
});

export type DistributionRow = InferEntity<typeof DistributionEntity>;
