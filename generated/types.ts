/**
 * RFC 3339 date-time with a time zone, e.g. 2025-12-28T10:30:00Z.
 */
export type Timestamp = string;
/**
 * Consumed from CourseFactory (stream COURSE): a course was deployed to staging; we set staging_url and staging_deployed_at on every distribution of that course. Subject: course.deployed.staging, possibly with a trailing token such as the course id (course.deployed.staging[.<course_id>]). Validated leniently: unknown extra fields are accepted; missing or wrongly typed required fields are a permanent error.
 */
export type CourseDeployedStagingEvent = ConsumedEventEnvelope & {
  type: "course.deployed.staging";
  payload: CourseDeployedStagingPayload;
};
/**
 * CourseFactory's id of a course; may be a subject token, so no dots or spaces.
 */
export type CourseId = string;
/**
 * An absolute http(s) URL.
 */
export type WebUrl = string;
/**
 * Consumed from CourseFactory (stream COURSE): a course was generated; we create its distribution. Subject: course.generation.completed, possibly with a trailing token such as the course id (course.generation.completed[.<course_id>]). Validated leniently: unknown extra fields are accepted; missing or wrongly typed required fields are a permanent error.
 */
export type CourseGenerationCompletedEvent = ConsumedEventEnvelope & {
  type: "course.generation.completed";
  payload: CourseGenerationCompletedPayload;
};
/**
 * A tenant id. It is a token of every command subject, so it has no dots; 'ops' is reserved for operator endpoints.
 */
export type TenantId = string;
export type Title = string;
export type Description = string;
/**
 * A well-formed BCP 47 (RFC 5646) language tag in any letter case: a 2-3 letter ISO 639 language (with up to three extended subtags), then optional script, region (2 letters or 3 digits), variants, extensions and private use, e.g. de, de-AT, zh-Hant, es-419, de-CH-1996, sr-Latn-RS. The 4-8 letter primary subtags the RFC reserves are refused, so a language name such as German is not taken for a tag. Not checked against the IANA registry.
 */
export type Language = string;
/**
 * Becomes the new distribution's target_group.
 *
 * @maxItems 20
 */
export type TargetGroup = string[];
/**
 * A new distribution was created (by a create command, a micro-niche variant, or course.generation.completed). Subject: distribution.created.<distribution_id>.
 */
export type DistributionCreatedEvent = EventEnvelope & {
  type: "distribution.created";
  payload: DistributionCreatedPayload;
};
/**
 * An event id we issue: the prefix evt_ and 1-80 letters, digits, '_' or '-'. Also the Nats-Msg-Id of the published message.
 */
export type EventId = string;
/**
 * A distribution's id: the prefix dist_ and 1-64 letters or digits (the service issues dist_ + a 26-character ULID).
 */
export type DistributionId = string;
/**
 * URL slug, unique per tenant: lower-case ASCII letters and digits in groups joined by single hyphens.
 */
export type Slug = string;
/**
 * private: not listed publicly; public: published landing page.
 */
export type Visibility = "private" | "public";
/**
 * The distribution's content version label v1, v2, ...; not the optimistic row version.
 */
export type VersionLabel = string;
/**
 * A distribution was removed from the catalogue. Subject: distribution.deleted.<distribution_id>.
 */
export type DistributionDeletedEvent = EventEnvelope & {
  type: "distribution.deleted";
  payload: DistributionDeletedPayload;
};
/**
 * Who did it: a user or system id, never an e-mail address or name.
 */
export type ActorId = string;
/**
 * Enrollment call-to-action clicks (conversion tracking, no PII), aggregated: at most one event per distribution and cta_type per window (COUNTER_EVENT_WINDOW_MS, 1 s by default), carrying the running total; between two consecutive events of a distribution the total grows by exactly the clicks of the later event's cta_type (unknown when the caller did not say). meta.causation_id is null (many requests). Subject: distribution.enrollment_clicked.<distribution_id>.
 */
export type DistributionEnrollmentClickedEvent = EventEnvelope & {
  type: "distribution.enrollment_clicked";
  payload: DistributionEnrollmentClickedPayload;
};
/**
 * Which call-to-action element a click came from: a CtaType, or unknown when the caller did not say (never an invented element).
 */
export type ClickedCtaType = "primary_button" | "secondary_button" | "inline_link" | "banner" | "unknown";
/**
 * A micro-niche variant (child distribution) was derived from a parent distribution; a distribution.created event for the child accompanies it. Subject: distribution.micro_niche_created.<child_distribution_id>.
 */
export type DistributionMicroNicheCreatedEvent = EventEnvelope & {
  type: "distribution.micro_niche_created";
  payload: DistributionMicroNicheCreatedPayload;
};
/**
 * The child's target group, replacing the parent's; at least one audience.
 *
 * @minItems 1
 */
export type NonEmptyTargetGroup = TargetGroup & [unknown, ...unknown[]];
/**
 * A distribution's visibility changed from private to public: its landing page is live. Subject: distribution.published.<distribution_id>.
 */
export type DistributionPublishedEvent = EventEnvelope & {
  type: "distribution.published";
  payload: DistributionPublishedPayload;
};
/**
 * A distribution's visibility changed from public to private: its landing page must leave public access. Subject: distribution.unpublished.<distribution_id>.
 */
export type DistributionUnpublishedEvent = EventEnvelope & {
  type: "distribution.unpublished";
  payload: DistributionUnpublishedPayload;
};
/**
 * A snake_case reason code, e.g. content_revision_required.
 */
export type ReasonCode = string;
/**
 * A distribution's metadata was modified (by an update command or course.deployed.staging). Subject: distribution.updated.<distribution_id>.
 */
export type DistributionUpdatedEvent = EventEnvelope & {
  type: "distribution.updated";
  payload: DistributionUpdatedPayload;
};
/**
 * Name of a distribution field that an update can change.
 *
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "UpdatableField".
 */
export type UpdatableField =
  | "slug"
  | "title"
  | "description"
  | "language"
  | "target_group"
  | "seo"
  | "cta"
  | "staging_url"
  | "staging_deployed_at";
/**
 * A distribution's content version label was incremented (v1 -> v2, ...). Subject: distribution.version_bumped.<distribution_id>.
 */
export type DistributionVersionBumpedEvent = EventEnvelope & {
  type: "distribution.version_bumped";
  payload: DistributionVersionBumpedPayload;
};
/**
 * Landing-page views, aggregated: at most one event per distribution and referrer_category per window (COUNTER_EVENT_WINDOW_MS, 1 s by default), carrying the running total; between two consecutive events of a distribution the total grows by exactly the views of the later event's referrer_category. meta.causation_id is null (many requests). No PII: no user id, IP address, session or referrer URL. Subject: distribution.viewed.<distribution_id>.
 */
export type DistributionViewedEvent = EventEnvelope & {
  type: "distribution.viewed";
  payload: DistributionViewedPayload;
};
/**
 * Where a page view came from, as a coarse category (never the referrer URL itself: no PII); unknown when the caller did not say.
 */
export type ReferrerCategory =
  "organic_search" | "paid_search" | "social" | "email" | "referral" | "direct" | "internal" | "unknown";
/**
 * Optimistic concurrency check: the row_version the caller last read. When it is not the distribution's current row_version the command fails with 409 VERSION_CONFLICT and changes nothing. Omit it to skip the check.
 */
export type ExpectedVersion = number;
/**
 * Caller's id of the flow a request belongs to; copied into meta.correlation_id of every event the request causes (the service makes a new one when none is sent).
 */
export type CorrelationId = string;
/**
 * Caller-chosen key that makes a creating command safe to retry: a repeat with the same key (same tenant and operation) returns the first request's result and has no further effect. Reusing a key with a different request body is 409 IDEMPOTENCY_KEY_REUSED.
 */
export type IdempotencyKey = string;
/**
 * The distribution with its new version label.
 */
export type BumpVersionResponse = Distribution;
/**
 * Which call-to-action element a landing page shows (and a click came from).
 */
export type CtaType = "primary_button" | "secondary_button" | "inline_link" | "banner";
/**
 * The created distribution (for a retried idempotency_key: the one the first request created).
 */
export type CreateResponse = Distribution;
/**
 * The new variant (the child), with derived_from = parent_id.
 */
export type CreateMicroNicheVariantResponse = Distribution;
/**
 * The distribution.
 */
export type GetResponse = Distribution;
/**
 * The distribution with that slug.
 */
export type GetBySlugResponse = Distribution;
/**
 * The distribution, now public with published_at set.
 */
export type PublishResponse = Distribution;
/**
 * The distribution, now private.
 */
export type UnpublishResponse = Distribution;
/**
 * The distribution after the update (unchanged, same row_version, when nothing changed).
 */
export type UpdateResponse = Distribution;

/**
 * Charter v1.0 envelope as we accept it from other producers (CourseFactory): lenient, unknown extra fields are accepted because producers evolve; missing or wrongly typed required fields are a permanent error.
 */
export interface ConsumedEventEnvelope {
  id: string;
  type: string;
  timestamp: Timestamp;
  payload: {};
  meta?: ConsumedEventMeta;
  target?: string | null;
}
/**
 * This interface was referenced by `ConsumedEventEnvelope`'s JSON-Schema
 * via the `definition` "ConsumedEventMeta".
 */
export interface ConsumedEventMeta {
  schema_version?: string;
  producer?: string;
  source_module?: string;
  tenant_id?: string | null;
  correlation_id?: string | null;
  causation_id?: string | null;
  /**
   * Accepted and ignored. The dedup key of a consumed message is its Nats-Msg-Id header, else the envelope id; only a message with neither falls back to <stream>:<sequence>. The stream sequence is not the key because it identifies a stored copy, not the event: a re-publish after the stream's duplicate window, or into a stream that was deleted and re-created (sequences restart at 1), gets another sequence for the same event or the same sequence for a new one.
   */
  stream_message_id?: string | null;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "CourseDeployedStagingPayload".
 */
export interface CourseDeployedStagingPayload {
  course_id: CourseId;
  staging_url: WebUrl;
  deployed_at: Timestamp;
}
/**
 * Required: the fields the service uses. total_lessons is optional (only a regeneration's changelog names it); unknown extra fields are accepted.
 *
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "CourseGenerationCompletedPayload".
 */
export interface CourseGenerationCompletedPayload {
  course_id: CourseId;
  tenant_id: TenantId;
  title: Title;
  description: Description;
  language: Language;
  target_audiences: TargetGroup;
  /**
   * Optional; when present, named in a regeneration's changelog.
   */
  total_lessons?: number;
  completed_at: Timestamp;
}
/**
 * Charter v1.0 envelope of every event course_distribution publishes. Each event schema extends it with its own type and payload and closes it (no unknown fields).
 */
export interface EventEnvelope {
  id: EventId;
  type: string;
  timestamp: Timestamp;
  payload: {};
  meta: EventMeta;
  /**
   * null = broadcast to every consumer (all our events are broadcasts).
   */
  target: string | null;
}
/**
 * This interface was referenced by `EventEnvelope`'s JSON-Schema
 * via the `definition` "EventMeta".
 */
export interface EventMeta {
  schema_version: "1.0";
  producer: "course_distribution";
  source_module: "course_distribution";
  tenant_id: TenantId;
  /**
   * From the request or consumed event that started the flow; a new id when none came.
   */
  correlation_id: string;
  /**
   * Id of the consumed event or command that caused this event; null when there was none.
   */
  causation_id: string | null;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "DistributionCreatedPayload".
 */
export interface DistributionCreatedPayload {
  distribution_id: DistributionId;
  course_id: CourseId;
  slug: Slug;
  language: Language;
  title: Title;
  target_group: TargetGroup;
  visibility: Visibility;
  version: VersionLabel;
  /**
   * The parent distribution of a micro-niche variant; null for a root distribution.
   */
  derived_from: DistributionId | null;
  created_at: Timestamp;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "DistributionDeletedPayload".
 */
export interface DistributionDeletedPayload {
  distribution_id: DistributionId;
  slug: Slug;
  course_id: CourseId;
  deleted_at: Timestamp;
  deleted_by: ActorId;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "DistributionEnrollmentClickedPayload".
 */
export interface DistributionEnrollmentClickedPayload {
  distribution_id: DistributionId;
  slug: Slug;
  /**
   * The distribution's running total of enrollment clicks after this event's clicks.
   */
  enrollment_count: number;
  clicked_at: Timestamp;
  cta_type: ClickedCtaType;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "DistributionMicroNicheCreatedPayload".
 */
export interface DistributionMicroNicheCreatedPayload {
  child_distribution_id: DistributionId;
  parent_distribution_id: DistributionId;
  parent_slug: Slug;
  child_slug: Slug;
  target_group_override: NonEmptyTargetGroup;
  /**
   * The child's own title; null when it keeps the parent's title.
   */
  title_override: Title | null;
  created_at: Timestamp;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "DistributionPublishedPayload".
 */
export interface DistributionPublishedPayload {
  distribution_id: DistributionId;
  slug: Slug;
  course_id: CourseId;
  title: Title;
  language: Language;
  target_group: TargetGroup;
  seo: PublishedSeo;
  published_at: Timestamp;
}
/**
 * Search-engine metadata of a published landing page: all three fields present.
 *
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "PublishedSeo".
 */
export interface PublishedSeo {
  meta_title: string;
  meta_description: string;
  /**
   * @maxItems 30
   */
  meta_keywords: string[];
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "DistributionUnpublishedPayload".
 */
export interface DistributionUnpublishedPayload {
  distribution_id: DistributionId;
  slug: Slug;
  unpublished_at: Timestamp;
  reason: ReasonCode;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "DistributionUpdatedPayload".
 */
export interface DistributionUpdatedPayload {
  distribution_id: DistributionId;
  /**
   * The fields the update changed.
   *
   * @minItems 1
   */
  updated_fields: [UpdatableField, ...UpdatableField[]];
  /**
   * Values before the update, keyed by field name. May list only some of updated_fields.
   */
  old_values: {};
  /**
   * Values after the update, keyed by field name. May list only some of updated_fields.
   */
  new_values: {};
  updated_at: Timestamp;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "DistributionVersionBumpedPayload".
 */
export interface DistributionVersionBumpedPayload {
  distribution_id: DistributionId;
  slug: Slug;
  old_version: VersionLabel;
  new_version: VersionLabel;
  bumped_at: Timestamp;
  /**
   * What changed in the new version, for humans.
   */
  changelog: string;
}
/**
 * This interface was referenced by `undefined`'s JSON-Schema
 * via the `definition` "DistributionViewedPayload".
 */
export interface DistributionViewedPayload {
  distribution_id: DistributionId;
  slug: Slug;
  /**
   * The distribution's running total of views after this event's views (not the number of views of this event: that is the difference to the previous event's total).
   */
  view_count: number;
  viewed_at: Timestamp;
  referrer_category: ReferrerCategory;
}
/**
 * Body of every failed reply. The same status is in the services-framework headers Nats-Service-Error-Code (400, 404, 409, 413, 503, 500) and Nats-Service-Error (the message).
 */
export interface ErrorReply {
  error: ErrorBody;
}
export interface ErrorBody {
  /**
   * Stable machine-readable code.
   */
  code:
    | "BAD_REQUEST"
    | "VALIDATION_FAILED"
    | "UNKNOWN_OPERATION"
    | "BAD_TENANT"
    | "NOT_FOUND"
    | "SLUG_TAKEN"
    | "ILLEGAL_TRANSITION"
    | "PUBLISH_REQUIREMENTS_UNMET"
    | "VERSION_CONFLICT"
    | "PARENT_DELETED"
    | "HAS_VARIANTS"
    | "VARIANT_OF_VARIANT"
    | "IDEMPOTENCY_KEY_REUSED"
    | "PAYLOAD_TOO_LARGE"
    | "UNAVAILABLE"
    | "COMMIT_OUTCOME_UNKNOWN"
    | "OVERLOADED"
    | "SHUTTING_DOWN"
    | "INTERNAL";
  message: string;
  /**
   * Structured detail, e.g. the list of validation issues for VALIDATION_FAILED.
   */
  details?:
    | ValidationIssue[]
    | {
        [k: string]: unknown;
      };
}
/**
 * This interface was referenced by `ErrorReply`'s JSON-Schema
 * via the `definition` "ValidationIssue".
 */
export interface ValidationIssue {
  /**
   * JSON Pointer of the offending value; '' for the whole document.
   */
  path: string;
  reason: string;
}
/**
 * Increment a distribution's content version label (v1 -> v2 -> ...) and emit distribution.version_bumped with the changelog. Subject: course_distribution.<tenant_id>.bump_version.
 */
export interface BumpVersionRequest {
  id: DistributionId;
  /**
   * What changed in the new version; copied into distribution.version_bumped.
   */
  changelog: string;
  expected_version?: ExpectedVersion;
  correlation_id?: CorrelationId;
  idempotency_key?: IdempotencyKey;
}
/**
 * A course landing page as the API returns it.
 */
export interface Distribution {
  id: DistributionId;
  tenant_id: TenantId;
  course_id: CourseId;
  slug: Slug;
  language: Language;
  title: Title;
  description: Description;
  target_group: TargetGroup;
  visibility: Visibility;
  version: VersionLabel;
  derived_from: DistributionId | null;
  seo: Seo;
  cta: Cta;
  staging_url: WebUrl | null;
  staging_deployed_at: Timestamp | null;
  view_count: number;
  enrollment_count: number;
  /**
   * Optimistic concurrency token: increases with every change; send it back as expected_version.
   */
  row_version: number;
  published_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
/**
 * Search-engine metadata of a landing page.
 */
export interface Seo {
  meta_title?: string;
  meta_description?: string;
  /**
   * @maxItems 30
   */
  meta_keywords?: string[];
}
/**
 * The landing page's enrollment call to action.
 */
export interface Cta {
  label: string;
  type: CtaType;
  url?: WebUrl | null;
}
/**
 * Create a distribution (a course landing page), private and at version v1. Subject: course_distribution.<tenant_id>.create. Emits distribution.created.
 */
export interface CreateRequest {
  course_id: CourseId;
  title: Title;
  language: Language;
  /**
   * Explicit slug; 409 SLUG_TAKEN when another distribution of the tenant has it. Omitted: generated from the title.
   */
  slug?: Slug;
  /**
   * Landing-page text; '' when omitted.
   */
  description?: Description;
  /**
   * Audiences addressed; [] when omitted.
   */
  target_group?: TargetGroup;
  /**
   * {} when omitted.
   */
  seo?: Seo;
  /**
   * Call to action; a default one when omitted.
   */
  cta?: Cta;
  correlation_id?: CorrelationId;
  idempotency_key?: IdempotencyKey;
}
/**
 * Derive a micro-niche variant from a parent distribution: a new private distribution at v1 for a narrower audience, with the parent's course, language and content where not overridden, and derived_from = the parent. A deleted parent is 409 PARENT_DELETED; a parent that is itself a variant is 409 VARIANT_OF_VARIANT. Emits distribution.created and distribution.micro_niche_created for the child. Subject: course_distribution.<tenant_id>.create_micro_niche_variant.
 */
export interface CreateMicroNicheVariantRequest {
  /**
   * The distribution to derive from; must be a root distribution.
   */
  parent_id: DistributionId;
  /**
   * The variant's audiences (replaces the parent's); at least one.
   */
  target_group: NonEmptyTargetGroup;
  /**
   * The variant's title; the parent's when omitted.
   */
  title?: Title;
  /**
   * The variant's slug; 409 SLUG_TAKEN when taken. Omitted: generated from the variant's title.
   */
  slug?: Slug;
  /**
   * The variant's text; the parent's when omitted.
   */
  description?: Description;
  /**
   * The parent's when omitted.
   */
  seo?: Seo;
  /**
   * The parent's when omitted.
   */
  cta?: Cta;
  correlation_id?: CorrelationId;
  idempotency_key?: IdempotencyKey;
}
/**
 * Delete a distribution. A parent with live micro-niche variants is 409 HAS_VARIANTS unless cascade is true, which deletes the variants too. Emits one distribution.deleted per deleted distribution. Subject: course_distribution.<tenant_id>.delete.
 */
export interface DeleteRequest {
  id: DistributionId;
  /**
   * Who deletes it; copied into distribution.deleted.
   */
  deleted_by: ActorId;
  /**
   * Also delete the live micro-niche variants of this distribution.
   */
  cascade?: boolean;
  expected_version?: ExpectedVersion;
  correlation_id?: CorrelationId;
}
/**
 * What was deleted.
 */
export interface DeleteResponse {
  /**
   * The requested distribution first, then each variant deleted with it by cascade.
   *
   * @minItems 1
   */
  deleted_ids: [DistributionId, ...DistributionId[]];
  deleted_at: Timestamp;
}
/**
 * Read one distribution by id; 404 NOT_FOUND when the tenant has none with it. Subject: course_distribution.<tenant_id>.get.
 */
export interface GetRequest {
  id: DistributionId;
  correlation_id?: CorrelationId;
}
/**
 * Read one distribution by its slug (unique per tenant); 404 NOT_FOUND when none has it. Subject: course_distribution.<tenant_id>.get_by_slug.
 */
export interface GetBySlugRequest {
  slug: Slug;
  correlation_id?: CorrelationId;
}
/**
 * List the tenant's distributions, in a stable order, one page at a time; all filters combine with AND. Subject: course_distribution.<tenant_id>.list.
 */
export interface ListRequest {
  /**
   * Only this course's distributions.
   */
  course_id?: CourseId;
  /**
   * Only distributions with this visibility.
   */
  visibility?: Visibility;
  /**
   * A single audience code: only distributions whose target_group contains it.
   */
  target_group?: string;
  /**
   * Only the micro-niche variants of this parent distribution.
   */
  derived_from?: DistributionId;
  /**
   * Page size.
   */
  limit?: number;
  /**
   * Opaque position from a previous reply's next_cursor; omit it for the first page. Send the same filters with it.
   */
  cursor?: string;
  correlation_id?: CorrelationId;
}
/**
 * One page of distributions.
 */
export interface ListResponse {
  /**
   * At most limit distributions.
   */
  items: Distribution[];
  /**
   * Pass as cursor to read the next page; null on the last page.
   */
  next_cursor: string | null;
}
/**
 * Count one view of a distribution's landing page and emit distribution.viewed. Carries no user, IP or session data. Subject: course_distribution.<tenant_id>.log_view.
 */
export interface LogViewRequest {
  id: DistributionId;
  /**
   * Where the view came from; omitted = unknown.
   */
  referrer_category?: ReferrerCategory & string;
  correlation_id?: CorrelationId;
}
/**
 * The view was counted.
 */
export interface LogViewResponse {
  distribution_id: DistributionId;
  /**
   * The committed total of views, including this one.
   */
  view_count: number;
}
/**
 * Make a private distribution public (visibility private -> public) and emit distribution.published. Publishing needs a non-empty description, seo.meta_title and seo.meta_description (else 409 PUBLISH_REQUIREMENTS_UNMET, details name the missing fields). Publishing one that is already public is an idempotent repeat: 200 with the distribution unchanged, no event. Subject: course_distribution.<tenant_id>.publish.
 */
export interface PublishRequest {
  id: DistributionId;
  expected_version?: ExpectedVersion;
  correlation_id?: CorrelationId;
}
/**
 * Count one click on a distribution's enrollment call to action and emit distribution.enrollment_clicked. Carries no user data. Subject: course_distribution.<tenant_id>.track_enrollment_click.
 */
export interface TrackEnrollmentClickRequest {
  id: DistributionId;
  /**
   * Which CTA element was clicked; omitted = unknown.
   */
  cta_type?: ClickedCtaType & string;
  correlation_id?: CorrelationId;
}
/**
 * The click was counted.
 */
export interface TrackEnrollmentClickResponse {
  distribution_id: DistributionId;
  /**
   * The committed total of enrollment clicks, including this one.
   */
  enrollment_count: number;
}
/**
 * Take a public distribution offline (visibility public -> private) with a reason and emit distribution.unpublished. Unpublishing one that is already private is an idempotent repeat: 200 with the distribution unchanged, no event. Subject: course_distribution.<tenant_id>.unpublish.
 */
export interface UnpublishRequest {
  id: DistributionId;
  /**
   * Why, as a code (e.g. content_revision_required); copied into distribution.unpublished.
   */
  reason: ReasonCode;
  expected_version?: ExpectedVersion;
  correlation_id?: CorrelationId;
}
/**
 * Change metadata of a distribution; only the fields sent are changed (seo and cta are replaced as a whole). Emits distribution.updated naming the fields whose value changed; when none changed nothing is written and no event is emitted (still a success). A taken slug is 409 SLUG_TAKEN. Subject: course_distribution.<tenant_id>.update.
 */
export interface UpdateRequest {
  id: DistributionId;
  expected_version?: ExpectedVersion;
  /**
   * New slug; 409 SLUG_TAKEN when another distribution of the tenant has it.
   */
  slug?: Slug;
  title?: Title;
  description?: Description;
  language?: Language;
  /**
   * Replaces the whole list.
   */
  target_group?: TargetGroup;
  /**
   * Replaces the whole SEO object.
   */
  seo?: Seo;
  /**
   * Replaces the whole call to action.
   */
  cta?: Cta;
  correlation_id?: CorrelationId;
}

/** Schema name (file name without .schema.json) -> the type its documents have. */
export interface ContractTypes {
  "consumed-envelope": ConsumedEventEnvelope;
  "course.deployed.staging": CourseDeployedStagingEvent;
  "course.generation.completed": CourseGenerationCompletedEvent;
  "distribution.created": DistributionCreatedEvent;
  "distribution.deleted": DistributionDeletedEvent;
  "distribution.enrollment_clicked": DistributionEnrollmentClickedEvent;
  "distribution.micro_niche_created": DistributionMicroNicheCreatedEvent;
  "distribution.published": DistributionPublishedEvent;
  "distribution.unpublished": DistributionUnpublishedEvent;
  "distribution.updated": DistributionUpdatedEvent;
  "distribution.version_bumped": DistributionVersionBumpedEvent;
  "distribution.viewed": DistributionViewedEvent;
  "envelope": EventEnvelope;
  "error": ErrorReply;
  "op.bump_version.request": BumpVersionRequest;
  "op.bump_version.response": BumpVersionResponse;
  "op.create.request": CreateRequest;
  "op.create.response": CreateResponse;
  "op.create_micro_niche_variant.request": CreateMicroNicheVariantRequest;
  "op.create_micro_niche_variant.response": CreateMicroNicheVariantResponse;
  "op.delete.request": DeleteRequest;
  "op.delete.response": DeleteResponse;
  "op.get.request": GetRequest;
  "op.get.response": GetResponse;
  "op.get_by_slug.request": GetBySlugRequest;
  "op.get_by_slug.response": GetBySlugResponse;
  "op.list.request": ListRequest;
  "op.list.response": ListResponse;
  "op.log_view.request": LogViewRequest;
  "op.log_view.response": LogViewResponse;
  "op.publish.request": PublishRequest;
  "op.publish.response": PublishResponse;
  "op.track_enrollment_click.request": TrackEnrollmentClickRequest;
  "op.track_enrollment_click.response": TrackEnrollmentClickResponse;
  "op.unpublish.request": UnpublishRequest;
  "op.unpublish.response": UnpublishResponse;
  "op.update.request": UpdateRequest;
  "op.update.response": UpdateResponse;
}
