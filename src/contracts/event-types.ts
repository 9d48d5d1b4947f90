/** The events of the contract, by direction. Subjects and streams are in docs/CONTRACT.md and the AsyncAPI document. */
export const PRODUCED_EVENT_TYPES = [
  'distribution.created',
  'distribution.updated',
  'distribution.deleted',
  'distribution.published',
  'distribution.unpublished',
  'distribution.viewed',
  'distribution.enrollment_clicked',
  'distribution.micro_niche_created',
  'distribution.version_bumped',
] as const;

export const CONSUMED_EVENT_TYPES = ['course.generation.completed', 'course.deployed.staging'] as const;

export type ProducedEventType = (typeof PRODUCED_EVENT_TYPES)[number];
export type ConsumedEventType = (typeof CONSUMED_EVENT_TYPES)[number];

/** The 12 request/reply operations; each has op.<name>.request and op.<name>.response schemas. */
export const OPERATIONS = [
  'create',
  'get',
  'get_by_slug',
  'list',
  'update',
  'delete',
  'publish',
  'unpublish',
  'log_view',
  'track_enrollment_click',
  'create_micro_niche_variant',
  'bump_version',
] as const;

export type Operation = (typeof OPERATIONS)[number];
