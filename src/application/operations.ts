/** The table of contents of the API: each operation of CONTRACT.md and the use case that answers it. */
import type { ContractTypes } from '../../generated/types.js';
import type { Operation } from '../contracts/event-types.js';
import type { Counter } from './counters.js';
import type { RequestContext, ServiceDeps } from './deps.js';
import { bumpVersion, createOne, createVariant, deleteOne, publishOne, unpublishOne, updateOne } from './distribution-commands.js';
import { getBySlug, getOne, listPage } from './distribution-queries.js';

type RequestOf<O extends Operation> = ContractTypes[`op.${O}.request`];
type ResponseOf<O extends Operation> = ContractTypes[`op.${O}.response`];

export type OperationHandlers = {
  [O in Operation]: (context: RequestContext, request: RequestOf<O>) => Promise<ResponseOf<O>>;
};

export function createOperations(deps: ServiceDeps, counters: { views: Counter; clicks: Counter }): OperationHandlers {
  return {
    create: (context, request) => createOne(deps, context, request),
    get: (context, request) => getOne(deps, context, request),
    get_by_slug: (context, request) => getBySlug(deps, context, request),
    list: (context, request) => listPage(deps, context, request),
    update: (context, request) => updateOne(deps, context, request),
    delete: (context, request) => deleteOne(deps, context, request),
    publish: (context, request) => publishOne(deps, context, request),
    unpublish: (context, request) => unpublishOne(deps, context, request),
    log_view: async (context, request) => ({
      distribution_id: request.id,
      view_count: await counters.views.add(context.tenantId, request.id, request.referrer_category ?? 'unknown'),
    }),
    track_enrollment_click: async (context, request) => ({
      distribution_id: request.id,
      enrollment_count: await counters.clicks.add(context.tenantId, request.id, request.cta_type ?? 'primary_button'),
    }),
    create_micro_niche_variant: (context, request) => createVariant(deps, context, request),
    bump_version: (context, request) => bumpVersion(deps, context, request),
  };
}
