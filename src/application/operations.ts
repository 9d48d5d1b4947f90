/** The table of contents of the API: each operation of docs/CONTRACT.md and the use case that answers it. */
import type { BumpVersionRequest, ContractTypes, Distribution, PublishRequest, UnpublishRequest, UpdateRequest } from '../../generated/types.js';
import type { Operation } from '../contracts/event-types.js';
import type { Counter } from './counters.js';
import type { RequestContext, ServiceDeps } from './deps.js';
import { bumpVersion, createOne, createVariant, deleteOne, publishOne, unpublishOne, updateOne } from './distribution-commands.js';
import { getBySlug, getOne, listPage } from './distribution-queries.js';
import type { SlugReadCache } from './slug-read-cache.js';

type RequestOf<O extends Operation> = ContractTypes[`op.${O}.request`];
type ResponseOf<O extends Operation> = ContractTypes[`op.${O}.response`];

export type OperationHandlers = {
  [O in Operation]: (context: RequestContext, request: RequestOf<O>) => Promise<ResponseOf<O>>;
};

export function createOperations(deps: ServiceDeps, counters: { views: Counter; clicks: Counter }, cache: SlugReadCache): OperationHandlers {
  /** After a committed change, this instance's cached page of that distribution is dropped. */
  const invalidating =
    <R extends { id: string }>(change: (context: RequestContext, request: R) => Promise<Distribution>) =>
    async (context: RequestContext, request: R): Promise<Distribution> => {
      const result = await change(context, request).finally(() => cache.invalidate(context.tenantId, request.id));
      return result;
    };
  return {
    create: (context, request) => createOne(deps, context, request),
    get: (context, request) => getOne(deps, context, request),
    get_by_slug: (context, request) => getBySlug(deps, cache, context, request),
    list: (context, request) => listPage(deps, context, request),
    update: invalidating((context, request: UpdateRequest) => updateOne(deps, context, request)),
    delete: async (context, request) => {
      const result = await deleteOne(deps, context, request).finally(() => cache.invalidate(context.tenantId, request.id));
      for (const id of result.deleted_ids) cache.invalidate(context.tenantId, id);
      return result;
    },
    publish: invalidating((context, request: PublishRequest) => publishOne(deps, context, request)),
    unpublish: invalidating((context, request: UnpublishRequest) => unpublishOne(deps, context, request)),
    log_view: async (context, request) => ({
      distribution_id: request.id,
      view_count: await counters.views.add(context, request.id, request.referrer_category ?? 'unknown'),
    }),
    track_enrollment_click: async (context, request) => ({
      distribution_id: request.id,
      enrollment_count: await counters.clicks.add(context, request.id, request.cta_type ?? 'unknown'),
    }),
    create_micro_niche_variant: (context, request) => createVariant(deps, context, request),
    bump_version: invalidating((context, request: BumpVersionRequest) => bumpVersion(deps, context, request)),
  };
}
