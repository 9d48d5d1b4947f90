/**
 * The batched consumer's unit of work: the messages of one pull handled in one transaction instead of one each.
 * The batch is plumbing only; what an event does is upstream-events.ts's, the same functions the per-message path
 * calls. Contracts, as for one message:
 * - one transaction: the dedup keys of every message are claimed in one statement first (inbox.ts claimMessages),
 *   then the effects of the claimed ones run, each writing its outbox rows; a message claimed before, or twice in
 *   the batch, is a duplicate with no effect; the outcomes exist only once the transaction has committed, and the
 *   caller acks after that;
 * - per-course order and lock: the batch takes its place in the mailbox of every course in it at once (in the
 *   order the messages arrived), then the mailbox turns of the distributions that staging deployments change, and
 *   the claim takes every course's advisory lock (sorted) before any effect; effects run grouped by course, each
 *   course's messages in delivery order;
 * - a batch whose transaction fails (after the command runner's retries of a conflict) changes nothing, and its
 *   messages are handled again one at a time, each in its own transaction (handleDecoded): one poison message is
 *   dead-lettered alone and never holds back or fails the others.
 * Messages that cannot be decoded, or that we do not consume, never enter the transaction.
 */
import type { Sql } from '../persistence/database.js';
import { courseLockKey } from '../persistence/advisory-locks.js';
import { findLiveIdsByCourses } from '../persistence/distribution-repository.js';
import { claimMessages } from '../persistence/inbox.js';
import type { ServiceDeps } from './deps.js';
import { withRetries } from './run-command.js';
import { applyDeployedStaging, applyGenerationCompleted, courseKey, type UpstreamOutcome } from './upstream-events.js';
import {
  decodeUpstream,
  handleDecoded,
  type DecodedUpstream,
  type MessageIdentification,
  type ProcessOutcome,
  type UpstreamDecodeOptions,
  type UpstreamDelivery,
} from './upstream-message.js';

export interface BatchItem {
  delivery: UpstreamDelivery;
  /** Filled as soon as the message is decoded, as the per-message handler does. */
  seen: MessageIdentification;
}

/**
 * Handles `items` together; returns one outcome per item, in order, each settling as the per-message handler's
 * would (a value, or the error the failure policy judges).
 */
export type UpstreamBatchHandler = (items: readonly BatchItem[]) => Promise<ProcessOutcome>[];

/**
 * The effect of one claimed message in the batch's transaction. A completion records its completed_at and reads its
 * course's context in one statement (course-generation.ts, recordGenerationAndFindContext), so nothing is read ahead
 * for it: each message of a course sees what the ones before it in the batch did.
 */
function applyDecoded(deps: ServiceDeps, tx: Sql, decoded: DecodedUpstream): Promise<UpstreamOutcome> {
  switch (decoded.type) {
    case 'course.generation.completed':
      return applyGenerationCompleted(deps, tx, decoded.message, decoded.event.payload);
    case 'course.deployed.staging':
      return applyDeployedStaging(deps, tx, decoded.message, decoded.event);
    default: {
      const unknown: never = decoded;
      throw new Error(`no effect for ${String((unknown as DecodedUpstream).type)}`);
    }
  }
}

const courseOf = (decoded: DecodedUpstream): string => decoded.event.payload.course_id;

/** Positions in the batch grouped by course (courses in order of first appearance, each in delivery order). */
function byCourse(batch: readonly DecodedUpstream[]): number[][] {
  const groups = new Map<string, number[]>();
  batch.forEach((decoded, index) => {
    const group = groups.get(courseOf(decoded));
    if (group) group.push(index);
    else groups.set(courseOf(decoded), [index]);
  });
  return [...groups.values()];
}

/** The batch's transaction: claim all, apply the claimed grouped by course; returns the outcomes in batch order. */
async function applyBatch(deps: ServiceDeps, batch: readonly DecodedUpstream[]): Promise<UpstreamOutcome[]> {
  const courses = [...new Set(batch.map(courseOf))];
  return deps.mailbox.runTogether(courses.map(courseKey), async () => {
    const deployedCourses = [...new Set(batch.filter((d) => d.type === 'course.deployed.staging').map(courseOf))];
    const changed = deployedCourses.length === 0 ? [] : await findLiveIdsByCourses(deps.db, deployedCourses);
    const inTransaction = () =>
      withRetries(deps, async (tx) => {
        const claimed = await claimMessages(
          tx,
          batch.map((d) => d.message.identity),
          courses.map(courseLockKey),
        );
        const outcomes: UpstreamOutcome[] = new Array<UpstreamOutcome>(batch.length).fill('duplicate');
        for (const group of byCourse(batch)) {
          for (const index of group) {
            const decoded = batch[index]!;
            // claimed.delete: a message id twice in the batch has its effect once.
            if (!claimed.delete(decoded.message.identity.messageId)) continue;
            outcomes[index] = await applyDecoded(deps, tx, decoded);
          }
        }
        return outcomes;
      });
    return changed.length === 0 ? inTransaction() : deps.mailbox.runAll(changed, inTransaction);
  });
}

export function createUpstreamBatchHandler(deps: ServiceDeps, options: UpstreamDecodeOptions): UpstreamBatchHandler {
  const log = deps.log.child({ component: 'upstream-batch' });
  return (items) => {
    const outcomes: Promise<ProcessOutcome>[] = [];
    const batch: DecodedUpstream[] = [];
    const positions: number[] = [];
    items.forEach((item, index) => {
      try {
        const decoded = decodeUpstream(deps, options, item.delivery, item.seen);
        if (!decoded) {
          outcomes[index] = Promise.resolve('ignored');
          return;
        }
        batch.push(decoded);
        positions.push(index);
      } catch (err) {
        // What the per-message handler throws for it (PermanentMessageError): the consumer dead-letters it.
        outcomes[index] = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    if (batch.length === 1) outcomes[positions[0]!] = handleDecoded(deps, batch[0]!);
    if (batch.length > 1) {
      const applied = applyBatch(deps, batch).then(
        (results) => results.map((outcome) => Promise.resolve<ProcessOutcome>(outcome)),
        (err: unknown) => {
          log.warn({ err, messages: batch.length }, 'the batch failed; its messages are handled one at a time');
          return batch.map((decoded) => handleDecoded(deps, decoded));
        },
      );
      positions.forEach((position, k) => {
        outcomes[position] = applied.then((each) => each[k]!);
      });
    }
    return outcomes;
  };
}
