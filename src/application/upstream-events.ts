/**
 * What CourseFactory's events do, each in one transaction that first claims the message (the inbox), so a
 * redelivery, a replay or a re-publish of the same event has no second effect:
 * - course.generation.completed: the course's root distribution is created (private, v1, slug from the title,
 *   default SEO and CTA). A second completion for a course whose root distribution exists is a no-op: editors may
 *   have changed the page since, and a regeneration must not overwrite their work.
 * - course.deployed.staging: every live distribution of the course gets the staging URL and time; the deployment
 *   is also remembered per course, so a distribution created later (the events of one course arrive in any order)
 *   starts with it. An older deployment than the one applied is ignored.
 * Both run in the mailbox of the course (and of every distribution they change), and take a per-course advisory
 * lock in the database, so they serialise with each other and with commands across instances.
 */
import type { Sql } from '../persistence/database.js';
import type { CourseDeployedStagingEvent, CourseGenerationCompletedEvent } from '../../generated/types.js';
import { distributionForCourse, stagingCommand } from '../domain/course-events.js';
import { createDistribution, decide, evolve, type Creation } from '../domain/distribution.js';
import { slugFromTitle } from '../domain/slug.js';
import { ServiceFailure } from '../errors.js';
import { courseLockKey } from '../persistence/advisory-locks.js';
import { findCourseContext, recordCourseStaging, type CourseContext } from '../persistence/course-staging.js';
import { findLiveByCourse, updateDistribution } from '../persistence/distribution-repository.js';
import { claimMessage, type MessageIdentity } from '../persistence/inbox.js';
import type { ServiceDeps } from './deps.js';
import { recordEvents, type EventLineage } from './record-events.js';
import { withRetries } from './run-command.js';
import { insertWithSlug } from './slugs.js';

export type UpstreamOutcome = 'applied' | 'duplicate' | 'no-op';

/** The message being handled: its dedup identity and the lineage its events inherit. */
export interface UpstreamMessage {
  identity: MessageIdentity;
  eventId: string;
  correlationId: string | undefined;
}

/** The mailbox key of everything a course's consumed events do. */
export const courseKey = (courseId: string) => `course:${courseId}`;

/** The events caused by a consumed event carry its correlation (a new one when it has none), and it is their cause. */
function lineage(deps: ServiceDeps, message: UpstreamMessage, tenantId: string, timestamp: string): EventLineage {
  return { tenantId, correlationId: message.correlationId ?? deps.newId('corr'), commandId: message.eventId, timestamp };
}

export function onGenerationCompleted(deps: ServiceDeps, message: UpstreamMessage, event: CourseGenerationCompletedEvent): Promise<UpstreamOutcome> {
  return deps.mailbox.run(courseKey(event.payload.course_id), () =>
    withRetries(deps, async (tx) => {
      if (!(await claimMessage(tx, message.identity, courseLockKey(event.payload.course_id)))) return 'duplicate';
      return applyGenerationCompleted(deps, tx, message, event);
    }),
  );
}

/**
 * The effect of a course.generation.completed in the transaction `tx`, which has claimed the message and holds the
 * course's lock (the per-message path above and the batch, upstream-batch.ts, both call it). `readAhead`: the
 * course's context as read earlier in this transaction, with nothing of the course changed since (the batch reads
 * the contexts of all its courses in one statement); otherwise it is read here.
 */
export async function applyGenerationCompleted(
  deps: ServiceDeps,
  tx: Sql,
  message: UpstreamMessage,
  event: CourseGenerationCompletedEvent,
  readAhead?: CourseContext,
): Promise<UpstreamOutcome> {
  const course = event.payload;
  const { hasLiveRoot, staging } = readAhead ?? (await findCourseContext(tx, course.tenant_id, course.course_id));
  if (hasLiveRoot) return 'no-op';
  const now = deps.now().toISOString();
  const id = deps.newId('dist');
  const build = (slug: string): Creation => {
    const created = createDistribution(distributionForCourse(course, { id, slug }), now);
    if (!staging) return created;
    const applied = decide(created.state, stagingCommand({ staging_url: staging.stagingUrl, deployed_at: staging.deployedAt }), now);
    if (!applied.ok) throw ServiceFailure.from(applied.rejection);
    return { state: applied.events.reduce(evolve, created.state), events: [...created.events, ...applied.events] };
  };
  const slugs = { generatedBase: slugFromTitle(course.title, course.language) };
  await insertWithSlug(deps, tx, lineage(deps, message, course.tenant_id, now), slugs, build);
  return 'applied';
}

export async function onDeployedStaging(deps: ServiceDeps, message: UpstreamMessage, event: CourseDeployedStagingEvent): Promise<UpstreamOutcome> {
  const deployment = event.payload;
  // The distributions' mailboxes are taken by id, read here; one created meanwhile is found again inside the
  // transaction (the row version protects it) or starts with the recorded deployment.
  const known = await findLiveByCourse(deps.db, deployment.course_id);
  const keys = [courseKey(deployment.course_id), ...known.map((d) => d.state.id)];
  return deps.mailbox.runAll(keys, () =>
    withRetries(deps, async (tx: Sql) => {
      if (!(await claimMessage(tx, message.identity, courseLockKey(deployment.course_id)))) return 'duplicate';
      return applyDeployedStaging(deps, tx, message, event);
    }),
  );
}

/**
 * The effect of a course.deployed.staging in the transaction `tx`, which has claimed the message and holds the
 * course's lock, and whose caller holds the mailbox turns of the course's live distributions.
 */
export async function applyDeployedStaging(deps: ServiceDeps, tx: Sql, message: UpstreamMessage, event: CourseDeployedStagingEvent): Promise<UpstreamOutcome> {
  const deployment = event.payload;
  await recordCourseStaging(tx, deployment.course_id, { stagingUrl: deployment.staging_url, deployedAt: deployment.deployed_at });
  const now = deps.now().toISOString();
  for (const loaded of await findLiveByCourse(tx, deployment.course_id)) {
    const decision = decide(loaded.state, stagingCommand(deployment), now);
    if (!decision.ok) throw ServiceFailure.from(decision.rejection);
    if (decision.events.length === 0) continue;
    await updateDistribution(tx, decision.events.reduce(evolve, loaded.state), loaded.rowVersion);
    await recordEvents(deps, tx, lineage(deps, message, loaded.state.tenant_id, now), decision.events);
  }
  return 'applied';
}
