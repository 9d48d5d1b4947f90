/**
 * The mutating operations. Each one reads like its contract: serialise on the distribution, load it in the
 * tenant, check the caller's expected version, let the domain decide, write the new state and its events in the
 * same transaction. Nothing here talks to NATS; replies go out after these resolve (after the commit).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type {
  BumpVersionRequest,
  CreateMicroNicheVariantRequest,
  CreateRequest,
  DeleteRequest,
  DeleteResponse,
  Distribution,
  PublishRequest,
  UnpublishRequest,
  UpdateRequest,
} from '../../generated/types.js';
import {
  createDistribution,
  decide,
  deriveVariant,
  evolve,
  toResource,
  type DistributionChanges,
  type DistributionCommand,
  type EventDraft,
} from '../domain/distribution.js';
import { slugFromTitle } from '../domain/slug.js';
import { ServiceFailure } from '../errors.js';
import {
  findAnyById,
  findLiveById,
  findLiveVariants,
  updateDistribution,
  type LoadedDistribution,
} from '../persistence/distribution-repository.js';
import type { RequestContext, ServiceDeps } from './deps.js';
import { idempotent } from './idempotent.js';
import { outboxBatchOf, recordEvents } from './record-events.js';
import { runCommand } from './run-command.js';
import { insertWithSlug } from './slugs.js';

const EDITABLE_FIELDS = ['slug', 'title', 'description', 'language', 'target_group', 'seo', 'cta'] as const;

export function notFound(id: string): ServiceFailure {
  return new ServiceFailure('NOT_FOUND', `distribution ${id} does not exist in this tenant`, { id });
}

async function loadForChange(em: EntityManager, context: RequestContext, id: string, expectedVersion: number | undefined): Promise<LoadedDistribution> {
  const loaded = await findLiveById(em, context.tenantId, id);
  if (!loaded) throw notFound(id);
  if (expectedVersion !== undefined && expectedVersion !== loaded.rowVersion) {
    throw new ServiceFailure('VERSION_CONFLICT', `expected_version ${expectedVersion} is stale: the distribution is at row_version ${loaded.rowVersion}`, {
      expected_version: expectedVersion,
      row_version: loaded.rowVersion,
    });
  }
  return loaded;
}

/** Applies a decided command: no events means nothing changed, so nothing is written. */
async function applyDecision(
  deps: ServiceDeps,
  em: EntityManager,
  context: RequestContext,
  loaded: LoadedDistribution,
  command: DistributionCommand,
  now: string,
  audit: { deletedBy?: string } = {},
): Promise<{ resource: Distribution; events: EventDraft[] }> {
  const decision = decide(loaded.state, command, now);
  if (!decision.ok) throw ServiceFailure.from(decision.rejection);
  if (decision.events.length === 0) return { resource: toResource(loaded.state, loaded.rowVersion), events: [] };
  const next = decision.events.reduce(evolve, loaded.state);
  const rowVersion = await updateDistribution(em, next, loaded.rowVersion, audit);
  return { resource: toResource(next, rowVersion), events: decision.events };
}

/** Runs one command on one existing distribution and records its events. */
function changeDistribution(
  deps: ServiceDeps,
  context: RequestContext,
  request: { id: string; expected_version?: number },
  command: DistributionCommand,
  idempotency?: { operation: string; key: string | undefined; request: object },
): Promise<Distribution> {
  return runCommand(deps, request.id, (em) => {
    const effect = async () => {
      const now = deps.now().toISOString();
      const loaded = await loadForChange(em, context, request.id, request.expected_version);
      const { resource, events } = await applyDecision(deps, em, context, loaded, command, now);
      await recordEvents(deps, em, context, events, now);
      return resource;
    };
    if (!idempotency) return effect();
    return idempotent(em, { tenantId: context.tenantId, operation: idempotency.operation, key: idempotency.key }, idempotency.request, effect);
  });
}

export async function createOne(deps: ServiceDeps, context: RequestContext, request: CreateRequest): Promise<Distribution> {
  const id = deps.newId('dist');
  return runCommand(
    deps,
    id,
    (em) =>
      idempotent(em, { tenantId: context.tenantId, operation: 'create', key: request.idempotency_key }, request, async () => {
        const now = deps.now().toISOString();
        const { state } = await insertWithSlug(
          em,
          context.tenantId,
          { requested: request.slug, generatedBase: slugFromTitle(request.title, request.language) },
          (slug) =>
            createDistribution(
              {
                id,
                tenant_id: context.tenantId,
                course_id: request.course_id,
                slug,
                language: request.language,
                title: request.title,
                description: request.description,
                target_group: request.target_group,
                seo: request.seo,
                cta: request.cta,
              },
              now,
            ),
          (creation) => outboxBatchOf(deps, context, creation.events, now),
        );
        return toResource(state, 1);
      }),
  );
}

export function updateOne(deps: ServiceDeps, context: RequestContext, request: UpdateRequest): Promise<Distribution> {
  const changes: DistributionChanges = {};
  for (const field of EDITABLE_FIELDS) {
    if (request[field] !== undefined) Object.assign(changes, { [field]: request[field] });
  }
  return changeDistribution(deps, context, request, { type: 'update', changes });
}

export function publishOne(deps: ServiceDeps, context: RequestContext, request: PublishRequest): Promise<Distribution> {
  return changeDistribution(deps, context, request, { type: 'publish' });
}

export function unpublishOne(deps: ServiceDeps, context: RequestContext, request: UnpublishRequest): Promise<Distribution> {
  return changeDistribution(deps, context, request, { type: 'unpublish', reason: request.reason });
}

export function bumpVersion(deps: ServiceDeps, context: RequestContext, request: BumpVersionRequest): Promise<Distribution> {
  return changeDistribution(deps, context, request, { type: 'bump_version', changelog: request.changelog }, {
    operation: 'bump_version',
    key: request.idempotency_key,
    request: { ...request },
  });
}

/**
 * Deletes a distribution. Live variants make it a 409 HAS_VARIANTS unless `cascade`, which deletes each variant
 * too, each with its own distribution.deleted (parent first), all in one transaction.
 */
export function deleteOne(deps: ServiceDeps, context: RequestContext, request: DeleteRequest): Promise<DeleteResponse> {
  return runCommand(deps, request.id, async (em) => {
    const now = deps.now().toISOString();
    const parent = await loadForChange(em, context, request.id, request.expected_version);
    const variants = await findLiveVariants(em, context.tenantId, request.id);
    if (variants.length > 0 && request.cascade !== true) {
      throw new ServiceFailure('HAS_VARIANTS', `distribution ${request.id} has ${variants.length} live variant(s); delete them first or ask for cascade`, {
        variant_ids: variants.map((v) => v.state.id),
      });
    }
    const command: DistributionCommand = { type: 'delete', deleted_by: request.deleted_by };
    const events: EventDraft[] = [];
    for (const target of [parent, ...variants]) {
      const applied = await applyDecision(deps, em, context, target, command, now, { deletedBy: request.deleted_by });
      events.push(...applied.events);
    }
    await recordEvents(deps, em, context, events, now);
    return { deleted_ids: [parent.state.id, ...variants.map((v) => v.state.id)], deleted_at: now };
  });
}

/**
 * Derives a micro-niche variant from a parent. Serialised on the parent, so a concurrent delete of the parent
 * and a new variant cannot interleave. Variants of variants are refused (one level keeps parent/variant
 * statistics meaningful); a deleted parent is 409 PARENT_DELETED.
 */
export function createVariant(deps: ServiceDeps, context: RequestContext, request: CreateMicroNicheVariantRequest): Promise<Distribution> {
  return runCommand(
    deps,
    request.parent_id,
    (em) =>
      idempotent(em, { tenantId: context.tenantId, operation: 'create_micro_niche_variant', key: request.idempotency_key }, request, async () => {
        const now = deps.now().toISOString();
        const parent = await findAnyById(em, context.tenantId, request.parent_id);
        if (!parent) throw notFound(request.parent_id);
        const generatedBase = request.title
          ? slugFromTitle(request.title, parent.state.language)
          : slugFromTitle(`${parent.state.slug} ${request.target_group.join(' ')}`, parent.state.language);
        const childId = deps.newId('dist');
        const derive = (slug: string) => {
          const derived = deriveVariant(
            parent.state,
            {
              id: childId,
              slug,
              target_group: request.target_group,
              title: request.title,
              description: request.description,
              seo: request.seo,
              cta: request.cta,
            },
            now,
          );
          if (!derived.ok) throw ServiceFailure.from(derived.rejection);
          return derived;
        };
        const derived = await insertWithSlug(em, context.tenantId, { requested: request.slug, generatedBase }, derive, (creation) =>
          outboxBatchOf(deps, context, creation.events, now),
        );
        return toResource(derived.state, 1);
      }),
  );
}
