/**
 * Announces views and clicks: every distribution whose oldest pending count is at least one window
 * (COUNTER_EVENT_WINDOW_MS) old gets its aggregate events (domain/counter-announcements.ts), at most one per
 * category, in one transaction that locks its row, takes its pending counts and appends the events to the outbox.
 *
 * Guarantees, and why:
 * - at most one event per distribution and category per window: a pending count is announced no earlier than one
 *   window after the first count that created it, and the next one is created after that announcement committed;
 * - nothing counted goes unannounced: the pending counts are written by the statement that counts, and deleted only
 *   by the transaction that appends their events; any instance announces them (after a crash, the next tick of
 *   another instance or of the restarted one), and a stop announces everything pending;
 * - the totals agree with the counts: both statements run under the distribution's row lock, which increments hold.
 *
 * The events' causation_id is null (an aggregate of many requests has no single cause) and the events of one
 * announcement share one new correlation id.
 */
import { buildEnvelope } from '../contracts/envelope.js';
import { announcementDrafts } from '../domain/counter-announcements.js';
import { classify } from '../failure-policy.js';
import { lockDueDistributions, takePendingCounts, type TakenCount } from '../persistence/counter-announcements.js';
import type { CounterKind } from '../persistence/counter-increments.js';
import type { Sql } from '../persistence/database.js';
import { appendToOutbox } from '../persistence/outbox.js';
import type { ServiceDeps } from './deps.js';
import type { EventEnvelope } from '../../generated/types.js';

export interface CounterAnnouncerOptions {
  /** COUNTER_EVENT_WINDOW_MS. */
  windowMs: number;
  /** How long an announcement waits for a distribution row another transaction holds before it tries at the next tick. */
  lockTimeoutMs: number;
  /** Distributions announced per transaction. */
  batchSize: number;
}

export interface CounterAnnouncer {
  /** Starts checking for ended windows (a few times per window). */
  start(): void;
  /** Stops checking, then announces every pending count, whatever its window. */
  stop(): Promise<void>;
  /** Announces what is due now (everything with `all`); resolves with the number of events appended. */
  announce(options?: { all?: boolean }): Promise<number>;
}

const KINDS: readonly CounterKind[] = ['views', 'clicks'];

/** How often windows are checked: a count is announced between one window and 1.25 windows after it started. */
export const tickMsOf = (windowMs: number): number => Math.min(250, Math.max(5, Math.floor(windowMs / 4)));

export function createCounterAnnouncer(deps: ServiceDeps, options: CounterAnnouncerOptions): CounterAnnouncer {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  /** One transaction: lock up to batchSize due distributions, take their counts, append their events. */
  async function announceBatch(kind: CounterKind, windowMs: number): Promise<{ distributions: number; events: number }> {
    return deps.db.transaction(
      async (tx: Sql) => {
        const ids = await lockDueDistributions(tx, kind, windowMs, options.batchSize);
        if (ids.length === 0) return { distributions: 0, events: 0 };
        const envelopes = await takeAnnouncements(deps, tx, [kind], ids);
        await appendToOutbox(tx, deps.validator, envelopes);
        return { distributions: ids.length, events: envelopes.length };
      },
      { lockTimeoutMs: options.lockTimeoutMs },
    );
  }

  async function announceAll(windowMs: number): Promise<number> {
    let events = 0;
    for (const kind of KINDS) {
      for (;;) {
        const batch = await announceBatch(kind, windowMs);
        events += batch.events;
        if (batch.distributions < options.batchSize) break;
      }
    }
    return events;
  }

  /** Whether the last check failed: a failure is logged when it starts (not at every check), and the recovery too. */
  let failing = false;

  function tick(): void {
    running = announceAll(options.windowMs)
      .then(() => {
        if (failing) deps.log.info('announcing views and clicks works again');
        failing = false;
      })
      .catch((err: unknown) => {
        // Nothing is lost: the counts stay pending and the next tick (here or on another instance) tries again.
        if (!failing) deps.log[classify(err).disposition === 'fail' ? 'error' : 'warn']({ err }, 'announcing views and clicks failed; retrying at every check');
        failing = true;
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, tickMsOf(options.windowMs));
      });
  }

  return {
    start() {
      if (timer || stopped) return;
      timer = setTimeout(tick, tickMsOf(options.windowMs));
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await announceAll(0).catch((err: unknown) => deps.log.warn({ err }, 'announcing the open window at stop failed; another instance announces it'));
    },
    announce: (announceOptions = {}) => announceAll(announceOptions.all ? 0 : options.windowMs),
  };
}

/**
 * Takes the pending counts of `kinds` of the distributions `ids`, whose rows `tx` must hold locked, and returns their
 * announcements as envelopes for the outbox of `tx` (one new correlation id for all, no causation). Also used by a
 * delete, so the views counted before it are announced before its distribution.deleted.
 */
export async function takeAnnouncements(deps: ServiceDeps, tx: Sql, kinds: readonly CounterKind[], ids: readonly string[]): Promise<EventEnvelope[]> {
  const now = deps.now().toISOString();
  const correlationId = deps.newId('corr');
  const envelopes: EventEnvelope[] = [];
  for (const kind of kinds) {
    for (const counts of groupByDistribution(await takePendingCounts(tx, kind, ids)).values()) {
      const [first] = counts;
      if (!first) continue;
      for (const draft of announcementDrafts(kind, { id: first.distributionId, slug: first.slug, total: first.total }, counts)) {
        envelopes.push(buildEnvelope(draft, { eventId: deps.newId('evt'), timestamp: now, tenantId: first.tenantId, correlationId, causationId: null }));
      }
    }
  }
  return envelopes;
}

function groupByDistribution(taken: readonly TakenCount[]): Map<string, TakenCount[]> {
  const groups = new Map<string, TakenCount[]>();
  for (const count of taken) {
    const group = groups.get(count.distributionId);
    if (group) group.push(count);
    else groups.set(count.distributionId, [count]);
  }
  return groups;
}
