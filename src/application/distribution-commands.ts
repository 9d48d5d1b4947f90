/**
 * The mutating operations. Each one reads like its contract: serialise on the distribution, load it in the
 * tenant, check the caller's expected version, let the domain decide, write the new state and its events in the
 * same transaction. Nothing here talks to NATS; replies go out after these resolve (after the commit).
 */
import type { Sql } from '../persistence/database.js';
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
  type Creation,
  type DistributionChanges,
  type DistributionCommand,
  type DistributionState,
  type EventDraft,
  type NewDistribution,
  type VariantDecision,
} from '../domain/distribution.js';
import { withDeployment } from '../domain/course-events.js';
import { lockCourseAndFindStaging, lockCourseOfAndFindStaging } from '../persistence/course-staging.js';
import { slugFromTitle } from '../domain/slug.js';
import { ServiceFailure } from '../errors.js';
import { findAnyById, findLiveById, findLiveVariants, lockDistribution, updateDistribution, type LoadedDistribution } from '../persistence/distribution-repository.js';
import type { RequestContext, ServiceDeps } from './deps.js';
import { idempotent } from './idempotent.js';
import { takeAnnouncements } from './counter-announcer.js';
import { appendToOutbox } from '../persistence/outbox.js';
import { recordEvents } from './record-events.js';
import { runCommand } from './run-command.js';
import { insertWithSlug, type SlugRequest } from './slugs.js';

const EDITABLE_FIELDS = ['slug', 'title', 'description', 'language', 'target_group', 'seo', 'cta'] as const;

export function notFound(id: string): ServiceFailure {
  return new ServiceFailure('NOT_FOUND', `distribution ${id} does not exist in this tenant`, { id });
}

async function loadForChange(tx: Sql, context: RequestContext, id: string, expectedVersion: number | undefined): Promise<LoadedDistribution> {
  const loaded = await findLiveById(tx, context.tenantId, id);
  if (!loaded) throw notFound(id);
  if (expectedVersion !== undefined && expectedVersion !== loaded.rowVersion) {
    throw new ServiceFailure('VERSION_CONFLICT', `expected_version ${expectedVersion} is stale: the distribution is at row_version ${loaded.rowVersion}`, {
      expected_version: expectedVersion,
      row_version: loaded.rowVersion,
    });
  }
  return loaded;
}

/** Decides the command and writes the new state: no events means nothing changed, so nothing is written. */
async function applyDecision(
  tx: Sql,
  loaded: LoadedDistribution,
  command: DistributionCommand,
  now: string,
  audit: { deletedBy?: string } = {},
): Promise<{ resource: Distribution; events: EventDraft[] }> {
  const decision = decide(loaded.state, command, now);
  if (!decision.ok) throw ServiceFailure.from(decision.rejection);
  if (decision.events.length === 0) return { resource: toResource(loaded.state, loaded.rowVersion), events: [] };
  const next = decision.events.reduce(evolve, loaded.state);
  const rowVersion = await updateDistribution(tx, next, loaded.rowVersion, audit);
  return { resource: toResource(next, rowVersion), events: decision.events };
}

/** An idempotency key of a request, and the request whose response it stands for. */
interface Idempotency {
  operation: string;
  key: string | undefined;
  request: object;
}

/**
 * Runs `work` as one command on `key`: in the key's mailbox and one transaction, retried from scratch on a
 * concurrent change (runCommand), and with `idempotency` at most once per key. `now` is the attempt's time.
 */
function inCommand<T extends object>(
  deps: ServiceDeps,
  context: RequestContext,
  key: string,
  idempotency: Idempotency | undefined,
  work: (tx: Sql, now: string) => Promise<T>,
): Promise<T> {
  return runCommand(deps, key, (tx) => {
    const attempt = () => work(tx, deps.now().toISOString());
    if (!idempotency) return attempt();
    return idempotent(tx, { tenantId: context.tenantId, operation: idempotency.operation, key: idempotency.key }, idempotency.request, attempt);
  });
}

/** Runs one command on one existing distribution: load -> decide -> write -> append its events -> commit. */
function changeDistribution(
  deps: ServiceDeps,
  context: RequestContext,
  request: { id: string; expected_version?: number },
  command: DistributionCommand,
  idempotency?: Idempotency,
): Promise<Distribution> {
  return inCommand(deps, context, request.id, idempotency, async (tx, now) => {
    const loaded = await loadForChange(tx, context, request.id, request.expected_version);
    const { resource, events } = await applyDecision(tx, loaded, command, now);
    await recordEvents(deps, tx, { ...context, timestamp: now }, events);
    return resource;
  });
}

function newDistribution(id: string, context: RequestContext, request: CreateRequest, slug: string): NewDistribution {
  return {
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
  };
}

/** The creation decided, or the refusal thrown as its ServiceFailure. */
function decided(decision: VariantDecision): Creation {
  if (!decision.ok) throw ServiceFailure.from(decision.rejection);
  return decision;
}

/**
 * Creates a distribution: the course's latest staging deployment (under the course lock) -> decide for a slug ->
 * insert it with its events, in one statement -> commit. A deployment consumed before the create is applied to it
 * (distribution.created, then distribution.updated); one consumed after finds it and updates it.
 */
export function createOne(deps: ServiceDeps, context: RequestContext, request: CreateRequest): Promise<Distribution> {
  const id = deps.newId('dist');
  return inCommand(deps, context, id, { operation: 'create', key: request.idempotency_key, request }, async (tx, now) => {
    const slugs = { requested: request.slug, generatedBase: slugFromTitle(request.title, request.language) };
    const deployment = await lockCourseAndFindStaging(tx, request.course_id);
    const decideFor = (slug: string) => decided(withDeployment(createDistribution(newDistribution(id, context, request, slug), now), deployment, now));
    const created = await insertWithSlug(deps, tx, { ...context, timestamp: now }, slugs, decideFor);
    return toResource(created.state, 1);
  });
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
  return changeDistribution(
    deps,
    context,
    request,
    { type: 'bump_version', changelog: request.changelog },
    {
      operation: 'bump_version',
      key: request.idempotency_key,
      request: { ...request },
    },
  );
}

/**
 * Deletes a distribution. Live variants make it a 409 HAS_VARIANTS unless `cascade`, which deletes each variant
 * too, each with its own distribution.deleted (parent first), all in one transaction.
 */
export function deleteOne(deps: ServiceDeps, context: RequestContext, request: DeleteRequest): Promise<DeleteResponse> {
  return inCommand(deps, context, request.id, undefined, async (tx, now) => {
    // Locked before the variants are looked for, so a variant another instance is creating is either seen or waits.
    await lockDistribution(tx, context.tenantId, request.id, 'update');
    const parent = await loadForChange(tx, context, request.id, request.expected_version);
    const variants = await findLiveVariants(tx, context.tenantId, request.id);
    if (variants.length > 0 && request.cascade !== true) {
      throw new ServiceFailure('HAS_VARIANTS', `distribution ${request.id} has ${variants.length} live variant(s); delete them first or ask for cascade`, {
        variant_ids: variants.map((v) => v.state.id),
      });
    }
    const command: DistributionCommand = { type: 'delete', deleted_by: request.deleted_by };
    const events: EventDraft[] = [];
    for (const target of [parent, ...variants]) {
      const applied = await applyDecision(tx, target, command, now, { deletedBy: request.deleted_by });
      events.push(...applied.events);
    }
    // Views and clicks counted before the delete are announced before its distribution.deleted (the rows are locked now).
    const deletedIds = [parent.state.id, ...variants.map((v) => v.state.id)];
    await appendToOutbox(tx, deps.validator, await takeAnnouncements(deps, tx, ['views', 'clicks'], deletedIds));
    await recordEvents(deps, tx, { ...context, timestamp: now }, events);
    return { deleted_ids: [parent.state.id, ...variants.map((v) => v.state.id)], deleted_at: now };
  });
}

/** The slug a variant asks for: its own, else one generated from its title, else from the parent's slug and its groups. */
function variantSlugs(parent: DistributionState, request: CreateMicroNicheVariantRequest): SlugRequest {
  const title = request.title || `${parent.slug} ${request.target_group.join(' ')}`;
  return { requested: request.slug, generatedBase: slugFromTitle(title, parent.language) };
}

/**
 * Derives a micro-niche variant from a parent: load the parent -> decide for a slug -> insert the variant with its
 * events, in one statement -> commit. Serialised on the parent (its mailbox in this process, its row lock across
 * instances), so a concurrent delete of the parent and a new variant cannot interleave. Variants of variants are refused (one level keeps parent/variant statistics
 * meaningful); a deleted parent is 409 PARENT_DELETED.
 */
export function createVariant(deps: ServiceDeps, context: RequestContext, request: CreateMicroNicheVariantRequest): Promise<Distribution> {
  const idempotency = { operation: 'create_micro_niche_variant', key: request.idempotency_key, request };
  return inCommand(deps, context, request.parent_id, idempotency, async (tx, now) => {
    // The course first (as a deployment takes it before the rows it updates), so the variant starts with the course's
    // latest staging deployment. Then the parent, locked before it is read, so a delete of the parent on another
    // instance either waits for this variant or is seen.
    const deployment = await lockCourseOfAndFindStaging(tx, context.tenantId, request.parent_id);
    await lockDistribution(tx, context.tenantId, request.parent_id, 'share');
    const parent = await findAnyById(tx, context.tenantId, request.parent_id);
    if (!parent) throw notFound(request.parent_id);
    const childId = deps.newId('dist');
    const decideFor = (slug: string): Creation => {
      const { target_group, title, description, seo, cta } = request;
      return decided(withDeployment(decided(deriveVariant(parent.state, { id: childId, slug, target_group, title, description, seo, cta }, now)), deployment, now));
    };
    const derived = await insertWithSlug(deps, tx, { ...context, timestamp: now }, variantSlugs(parent.state, request), decideFor);
    return toResource(derived.state, 1);
  });
}
