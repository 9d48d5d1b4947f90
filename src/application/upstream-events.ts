/**
 * What CourseFactory's events do, each in one transaction that first claims the message (the inbox), so a
 * redelivery, a replay or a re-publish of the same event has no second effect:
 * - course.generation.completed: the course's root distribution is created (private, v1, slug from the title,
 *   default SEO and CTA). The latest completed_at per course is recorded: a later completion for a course whose
 *   root distribution exists is a regeneration, announced by a version bump of the root (distribution.version_bumped,
 *   the editors' fields untouched: they may have changed the page since); an equal or older one is a re-send, a no-op.
 * - course.deployed.staging: every live distribution of the course gets the staging URL and time; the deployment
 *   is also remembered per course, so a distribution created later (the events of one course arrive in any order)
 *   starts with it. An older deployment than the one applied is ignored.
 * Both run in the mailbox of the course (and of every distribution they change), and take a per-course advisory
 * lock in the database, so they serialise with each other and with commands across instances.
 */
import type { Sql } from '../persistence/database.js';
import type { CourseDeployedStagingEvent, CourseGenerationCompletedEvent, CourseGenerationCompletedPayload } from '../../generated/types.js';
import { distributionForCourse, regenerationCommand, stagingCommand, withDeployment } from '../domain/course-events.js';
import { createDistribution, decide, evolve, type Creation } from '../domain/distribution.js';
import { slugFromTitle } from '../domain/slug.js';
import { ServiceFailure } from '../errors.js';
import { courseLockKey } from '../persistence/advisory-locks.js';
import { recordCourseStaging } from '../persistence/course-staging.js';
import { findLiveByCourse, findLiveRoots, updateDistribution } from '../persistence/distribution-repository.js';
import { recordGenerationAndFindContext } from '../persistence/course-generation.js';
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

export const courseKey = (courseId: string) => `course:${courseId}`;

/** The events caused by a consumed event carry its correlation (a new one when it has none), and it is their cause. */
function lineage(deps: ServiceDeps, message: UpstreamMessage, tenantId: string, timestamp: string): EventLineage {
  return { tenantId, correlationId: message.correlationId ?? deps.newId('corr'), commandId: message.eventId, timestamp };
}

export function onGenerationCompleted(deps: ServiceDeps, message: UpstreamMessage, event: CourseGenerationCompletedEvent): Promise<UpstreamOutcome> {
  const course = event.payload;
  return deps.mailbox.run(courseKey(course.course_id), () =>
    withRetries(deps, async (tx) => {
      if (!(await claimMessage(tx, message.identity, courseLockKey(course.course_id)))) return 'duplicate';
      return applyGenerationCompleted(deps, tx, message, course);
    }),
  );
}

/**
 * The effect of one course.generation.completed in the transaction `tx`, which has claimed the message (and so
 * holds the course lock; the per-message path above and the batch, upstream-batch.ts, both call it): record its
 * completed_at; no live root -> create it (with the course's staging deployment, if any); a live root and a later
 * completed_at than recorded -> bump each live root's version; else no-op.
 */
export async function applyGenerationCompleted(deps: ServiceDeps, tx: Sql, message: UpstreamMessage, course: CourseGenerationCompletedPayload): Promise<UpstreamOutcome> {
  const { regenerated, hasLiveRoot, staging } = await recordGenerationAndFindContext(tx, course.tenant_id, course.course_id, course.completed_at);
  const now = deps.now().toISOString();
  if (hasLiveRoot) {
    if (!regenerated) return 'no-op';
    // A root changed meanwhile by a command of another instance fails the row version: the whole message is retried.
    for (const root of await findLiveRoots(tx, course.tenant_id, course.course_id)) {
      const decision = decide(root.state, regenerationCommand(course), now);
      if (!decision.ok) throw ServiceFailure.from(decision.rejection);
      await updateDistribution(tx, decision.events.reduce(evolve, root.state), root.rowVersion);
      await recordEvents(deps, tx, lineage(deps, message, course.tenant_id, now), decision.events);
    }
    return 'applied';
  }
  const id = deps.newId('dist');
  const build = (slug: string): Creation => {
    const created = withDeployment(createDistribution(distributionForCourse(course, { id, slug }), now), staging, now);
    if (!created.ok) throw ServiceFailure.from(created.rejection);
    return created;
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
 * course's lock, and whose caller holds the mailbox turns of the course's live distributions (the per-message path
 * above and the batch, upstream-batch.ts, both call it).
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
