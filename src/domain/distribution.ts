/**
 * The distribution aggregate (a course landing page) as pure functions, in the decide/evolve style:
 * `decide(state, command, now)` checks the rules and returns the events a command causes (or a rejection),
 * `evolve(state, event)` applies one event to the state. No I/O, no clock, no randomness: the time and the ids
 * are passed in. Rules that need a query (a free slug, live variants) belong to the application.
 *
 * Events here are drafts: their payloads only. The application wraps them in envelopes (id, meta, correlation).
 */
import type {
  Cta,
  Distribution,
  DistributionCreatedPayload,
  DistributionDeletedPayload,
  DistributionEnrollmentClickedPayload,
  DistributionMicroNicheCreatedPayload,
  DistributionPublishedPayload,
  DistributionUnpublishedPayload,
  DistributionUpdatedPayload,
  DistributionVersionBumpedPayload,
  DistributionViewedPayload,
  Seo,
  UpdatableField,
} from '../../generated/types.js';
import type { ErrorCode, ErrorDetails, Rejection } from '../errors.js';
import { assertNever } from './assert-never.js';
import { sameValue } from './canonical-json.js';
import { defaultCta } from './defaults.js';
import { MAX_VERSION_NUMBER, nextVersionLabel, versionNumber } from './version-label.js';

export { nextVersionLabel } from './version-label.js';

/** A distribution as the domain sees it: the API resource without the row version, plus its deletion time. */
export type DistributionState = Omit<Distribution, 'row_version'> & { deleted_at: string | null };

/** An event the domain produces, before the application wraps it in an envelope. */
export type EventDraft =
  | { type: 'distribution.created'; payload: DistributionCreatedPayload }
  | { type: 'distribution.updated'; payload: DistributionUpdatedPayload }
  | { type: 'distribution.deleted'; payload: DistributionDeletedPayload }
  | { type: 'distribution.published'; payload: DistributionPublishedPayload }
  | { type: 'distribution.unpublished'; payload: DistributionUnpublishedPayload }
  | { type: 'distribution.viewed'; payload: DistributionViewedPayload }
  | { type: 'distribution.enrollment_clicked'; payload: DistributionEnrollmentClickedPayload }
  | { type: 'distribution.micro_niche_created'; payload: DistributionMicroNicheCreatedPayload }
  | { type: 'distribution.version_bumped'; payload: DistributionVersionBumpedPayload };

/** The fields an update command may change (staging fields change only through apply_staging). */
export type EditableField = 'slug' | 'title' | 'description' | 'language' | 'target_group' | 'seo' | 'cta';

/** What an update command changes: only the fields present; seo and cta are replaced as a whole. */
export type DistributionChanges = Partial<Pick<DistributionState, EditableField>>;

/** A command on an existing distribution. Creation is not a command on a state: see createDistribution. */
export type DistributionCommand =
  | { type: 'update'; changes: DistributionChanges }
  | { type: 'publish' }
  | { type: 'unpublish'; reason: string }
  | { type: 'bump_version'; changelog: string }
  | { type: 'delete'; deleted_by: string }
  | { type: 'apply_staging'; staging_url: string; deployed_at: string };

/** The outcome of a command: the events it causes (possibly none: an idempotent repeat) or why it was refused. */
export type Decision = { ok: true; events: EventDraft[] } | { ok: false; rejection: Rejection };

/** A new distribution and the events that announce it. */
export interface Creation {
  state: DistributionState;
  events: EventDraft[];
}

/** The outcome of deriving a variant: the child and its events, or why it was refused. */
export type VariantDecision = ({ ok: true } & Creation) | { ok: false; rejection: Rejection };

/** What createDistribution needs; the id and the free slug come from the application. */
export interface NewDistribution {
  id: string;
  tenant_id: string;
  course_id: string;
  slug: string;
  language: string;
  title: string;
  /** '' when omitted. */
  description?: string;
  /** [] when omitted. */
  target_group?: string[];
  /** {} when omitted. */
  seo?: Seo;
  /** defaultCta(language) when omitted. */
  cta?: Cta;
  /** The parent of a micro-niche variant; null (the default) for a root distribution. */
  derived_from?: string | null;
}

/** What deriveVariant needs besides the parent; omitted content is copied from the parent. */
export interface NewVariant {
  id: string;
  slug: string;
  /** The variant's audiences, replacing the parent's; at least one. */
  target_group: string[];
  title?: string;
  description?: string;
  seo?: Seo;
  cta?: Cta;
}

/** The fields an update command compares, in the contract's order of UpdatableField. */
const EDITABLE_FIELDS: readonly EditableField[] = ['slug', 'title', 'description', 'language', 'target_group', 'seo', 'cta'];

/** The fields apply_staging compares, in the contract's order of UpdatableField. */
const STAGING_FIELDS: readonly UpdatableField[] = ['staging_url', 'staging_deployed_at'];

type UpdatableValues = Pick<DistributionState, UpdatableField>;

/**
 * Decides what a command does to a distribution. Rules:
 * - a deleted distribution refuses everything with NOT_FOUND;
 * - update and apply_staging emit one distribution.updated naming only the fields whose value changed, none when
 *   nothing changed;
 * - publish and unpublish are idempotent: repeating one emits nothing and is no error;
 * - bump_version needs a non-blank changelog; delete always succeeds here (variants are the application's check).
 *
 * @param now - The command's time (RFC 3339); every timestamp the events carry.
 */
export function decide(state: DistributionState, command: DistributionCommand, now: string): Decision {
  if (state.deleted_at !== null) {
    return reject('NOT_FOUND', `distribution ${state.id} does not exist (deleted)`);
  }
  switch (command.type) {
    case 'update':
      return decideChanges(state, command.changes, EDITABLE_FIELDS, now);
    case 'publish':
      return decidePublish(state, now);
    case 'unpublish':
      return decideUnpublish(state, command.reason, now);
    case 'bump_version':
      return decideBumpVersion(state, command.changelog, now);
    case 'delete':
      return accept({
        type: 'distribution.deleted',
        payload: { distribution_id: state.id, slug: state.slug, course_id: state.course_id, deleted_at: now, deleted_by: command.deleted_by },
      });
    case 'apply_staging':
      return decideStaging(state, command.staging_url, command.deployed_at, now);
    default:
      return assertNever(command, 'command');
  }
}

/**
 * Applies one event to the state. Events that do not change this distribution (created, which createDistribution
 * already reflects; micro_niche_created, which describes the child) return the state as it is.
 */
export function evolve(state: DistributionState, event: EventDraft): DistributionState {
  switch (event.type) {
    case 'distribution.created':
    case 'distribution.micro_niche_created':
      return state;
    case 'distribution.updated':
      return { ...state, ...updatedValues(event.payload), updated_at: event.payload.updated_at };
    case 'distribution.published':
      return { ...state, visibility: 'public', published_at: event.payload.published_at, updated_at: event.payload.published_at };
    case 'distribution.unpublished':
      return { ...state, visibility: 'private', published_at: null, updated_at: event.payload.unpublished_at };
    case 'distribution.version_bumped':
      return { ...state, version: event.payload.new_version, updated_at: event.payload.bumped_at };
    case 'distribution.deleted':
      return { ...state, deleted_at: event.payload.deleted_at };
    case 'distribution.viewed':
      // The payload carries the running total, not an increment, so applying it twice is harmless.
      return { ...state, view_count: event.payload.view_count };
    case 'distribution.enrollment_clicked':
      return { ...state, enrollment_count: event.payload.enrollment_count };
    default:
      return assertNever(event, 'event');
  }
}

/**
 * A new distribution: private, at v1, with no views, clicks, staging deployment or publication yet; omitted
 * content gets its default (description '', target_group [], seo {}, cta defaultCta(language)).
 * Emits distribution.created.
 *
 * @param now - The creation time: created_at and updated_at.
 */
export function createDistribution(input: NewDistribution, now: string): Creation {
  const state: DistributionState = {
    id: input.id,
    tenant_id: input.tenant_id,
    course_id: input.course_id,
    slug: input.slug,
    language: input.language,
    title: input.title,
    description: input.description ?? '',
    target_group: [...(input.target_group ?? [])],
    visibility: 'private',
    version: 'v1',
    derived_from: input.derived_from ?? null,
    seo: structuredClone(input.seo ?? {}),
    cta: structuredClone(input.cta ?? defaultCta(input.language)),
    staging_url: null,
    staging_deployed_at: null,
    view_count: 0,
    enrollment_count: 0,
    published_at: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
  const created: EventDraft = {
    type: 'distribution.created',
    payload: {
      distribution_id: state.id,
      course_id: state.course_id,
      slug: state.slug,
      language: state.language,
      title: state.title,
      target_group: [...state.target_group],
      visibility: state.visibility,
      version: state.version,
      derived_from: state.derived_from,
      created_at: now,
    },
  };
  return { state, events: [created] };
}

/**
 * Derives a micro-niche variant: a new private v1 distribution of the parent's course, tenant and language for a
 * narrower audience, with the parent's title, description, seo and cta where the input does not override them.
 * Emits distribution.created for the child, then distribution.micro_niche_created.
 *
 * Refused with PARENT_DELETED for a deleted parent and with VARIANT_OF_VARIANT when the parent is itself a
 * variant: variants are one level deep, so every variant's statistics compare against one root distribution.
 */
export function deriveVariant(parent: DistributionState, input: NewVariant, now: string): VariantDecision {
  if (parent.deleted_at !== null) {
    return reject('PARENT_DELETED', `parent distribution ${parent.id} was deleted`);
  }
  if (parent.derived_from !== null) {
    return reject('VARIANT_OF_VARIANT', `distribution ${parent.id} is itself a variant of ${parent.derived_from}; derive from the root distribution instead`);
  }
  const [firstAudience, ...otherAudiences] = input.target_group;
  if (firstAudience === undefined) {
    return reject('VALIDATION_FAILED', 'a variant needs at least one target group', [{ path: '/target_group', reason: 'must contain at least one audience' }]);
  }
  const child = createDistribution(
    {
      id: input.id,
      tenant_id: parent.tenant_id,
      course_id: parent.course_id,
      slug: input.slug,
      language: parent.language,
      title: input.title ?? parent.title,
      description: input.description ?? parent.description,
      target_group: input.target_group,
      seo: input.seo ?? parent.seo,
      cta: input.cta ?? parent.cta,
      derived_from: parent.id,
    },
    now,
  );
  const nicheCreated: EventDraft = {
    type: 'distribution.micro_niche_created',
    payload: {
      child_distribution_id: child.state.id,
      parent_distribution_id: parent.id,
      parent_slug: parent.slug,
      child_slug: child.state.slug,
      target_group_override: [firstAudience, ...otherAudiences],
      title_override: input.title ?? null,
      created_at: now,
    },
  };
  return { ok: true, state: child.state, events: [...child.events, nicheCreated] };
}

/** The API resource of a distribution: the state without deleted_at, with the persistence layer's row version. */
export function toResource(state: DistributionState, rowVersion: number): Distribution {
  // Listed field by field so nothing but the contract's fields reaches the API, whatever the state carries.
  return {
    id: state.id,
    tenant_id: state.tenant_id,
    course_id: state.course_id,
    slug: state.slug,
    language: state.language,
    title: state.title,
    description: state.description,
    target_group: state.target_group,
    visibility: state.visibility,
    version: state.version,
    derived_from: state.derived_from,
    seo: state.seo,
    cta: state.cta,
    staging_url: state.staging_url,
    staging_deployed_at: state.staging_deployed_at,
    view_count: state.view_count,
    enrollment_count: state.enrollment_count,
    row_version: rowVersion,
    published_at: state.published_at,
    created_at: state.created_at,
    updated_at: state.updated_at,
  };
}

/**
 * One distribution.updated for those of `fields` whose value in `changes` differs from the state (compared as
 * canonical JSON, so key order inside seo or cta does not count as a change), or no event when none differs.
 * Fields absent from `changes` (or undefined) are not compared and not touched; keys outside `fields` are ignored,
 * so an update can never reach the staging fields. updated_fields follows the order of `fields`, which is the
 * contract's order, so the same change always gives the same event whatever order the caller sent.
 */
function decideChanges(state: DistributionState, changes: Partial<UpdatableValues>, fields: readonly UpdatableField[], now: string): Decision {
  const changed: UpdatableField[] = [];
  const oldValues: Record<string, unknown> = {};
  const newValues: Record<string, unknown> = {};
  for (const field of fields) {
    const next = changes[field];
    if (next === undefined || sameValue(state[field], next)) continue;
    changed.push(field);
    oldValues[field] = structuredClone(state[field]);
    newValues[field] = structuredClone(next);
  }
  const [first, ...rest] = changed;
  if (first === undefined) return accept();
  return accept({
    type: 'distribution.updated',
    payload: { distribution_id: state.id, updated_fields: [first, ...rest], old_values: oldValues, new_values: newValues, updated_at: now },
  });
}

/**
 * private -> public. A public landing page needs text and search metadata, so publishing requires a non-blank
 * description, seo.meta_title and seo.meta_description; the rejection lists every one that is missing.
 */
function decidePublish(state: DistributionState, now: string): Decision {
  if (state.visibility === 'public') return accept();
  const metaTitle = state.seo.meta_title ?? '';
  const metaDescription = state.seo.meta_description ?? '';
  const missing: string[] = [];
  if (isBlank(state.description)) missing.push('description');
  if (isBlank(metaTitle)) missing.push('seo.meta_title');
  if (isBlank(metaDescription)) missing.push('seo.meta_description');
  if (missing.length > 0) {
    return reject('PUBLISH_REQUIREMENTS_UNMET', `cannot publish ${state.id}: missing ${missing.join(', ')}`, { missing });
  }
  return accept({
    type: 'distribution.published',
    payload: {
      distribution_id: state.id,
      slug: state.slug,
      course_id: state.course_id,
      title: state.title,
      language: state.language,
      target_group: [...state.target_group],
      seo: { meta_title: metaTitle, meta_description: metaDescription, meta_keywords: [...(state.seo.meta_keywords ?? [])] },
      published_at: now,
    },
  });
}

/** public -> private, with the caller's reason code. */
function decideUnpublish(state: DistributionState, reason: string, now: string): Decision {
  if (state.visibility === 'private') return accept();
  return accept({
    type: 'distribution.unpublished',
    payload: { distribution_id: state.id, slug: state.slug, unpublished_at: now, reason },
  });
}

/** vN -> v(N+1), with a changelog for humans (trimmed; blank is refused). */
function decideBumpVersion(state: DistributionState, changelog: string, now: string): Decision {
  const trimmed = changelog.trim();
  if (trimmed === '') {
    return reject('VALIDATION_FAILED', 'changelog must not be blank', [{ path: '/changelog', reason: 'must not be blank' }]);
  }
  if (versionNumber(state.version) >= MAX_VERSION_NUMBER) {
    return reject('ILLEGAL_TRANSITION', `version ${state.version} is the last one a label can carry`);
  }
  return accept({
    type: 'distribution.version_bumped',
    payload: {
      distribution_id: state.id,
      slug: state.slug,
      old_version: state.version,
      new_version: nextVersionLabel(state.version),
      bumped_at: now,
      changelog: trimmed,
    },
  });
}

/**
 * Records a staging deployment. Deployments of one course may arrive out of order, so one older than the
 * deployment already recorded is ignored (no event); the same instant written differently is no change.
 */
function decideStaging(state: DistributionState, stagingUrl: string, deployedAt: string, now: string): Decision {
  const incoming = Date.parse(deployedAt);
  if (Number.isNaN(incoming)) {
    return reject('VALIDATION_FAILED', `deployed_at is not a timestamp: ${deployedAt}`, [{ path: '/deployed_at', reason: 'must be an RFC 3339 date-time' }]);
  }
  const recorded = state.staging_deployed_at === null ? null : Date.parse(state.staging_deployed_at);
  if (recorded !== null && recorded > incoming) return accept();
  const changes = { staging_url: stagingUrl, staging_deployed_at: recorded === incoming ? state.staging_deployed_at : deployedAt };
  return decideChanges(state, changes, STAGING_FIELDS, now);
}

/** The new values of an updated event, limited to the fields it names as updated. */
function updatedValues(payload: DistributionUpdatedPayload): Partial<UpdatableValues> {
  // new_values is an open object in the contract; its keys are UpdatableField names and its values the fields'
  // values, which is what decideChanges writes.
  const values = payload.new_values as Record<string, unknown>;
  const applied: Record<string, unknown> = {};
  for (const field of payload.updated_fields) {
    if (Object.hasOwn(values, field)) applied[field] = structuredClone(values[field]);
  }
  return applied;
}

function isBlank(text: string): boolean {
  return text.trim() === '';
}

function accept(...events: EventDraft[]): { ok: true; events: EventDraft[] } {
  return { ok: true, events };
}

function reject(code: ErrorCode, message: string, details?: ErrorDetails): { ok: false; rejection: Rejection } {
  return { ok: false, rejection: details === undefined ? { code, message } : { code, message, details } };
}
