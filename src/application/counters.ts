/**
 * View and enrollment-click counting by group commit: requests that arrive together are counted by one SQL
 * statement (the increments of the whole batch and one outbox row per distribution), and each request is answered
 * only after it commits, so an acknowledged view is a counted view; a failed batch fails every request in it, and
 * none of them is counted.
 *
 * The same statement records what it counted per distribution and category as pending announcement
 * (counter_pending); counter-announcer.ts turns that into at most one event per distribution and category per
 * window (COUNTER_EVENT_WINDOW_MS), so the hot path writes no event and wakes no relay. No PII is stored or
 * emitted: only counts.
 *
 * Counters do not pass through the distribution mailbox: an increment commutes with every other command, is
 * applied in SQL (`count = count + n`) and leaves row_version alone, so it never conflicts with an editor.
 *
 * Bounds: at most `maxQueued` views/clicks are taken and unanswered (past it, 503 OVERLOADED at once, like the
 * mailbox); a flush waits at most `lockTimeoutMs` for a row lock, and a distribution whose row another transaction
 * holds is split off (the rest of the batch is counted, its own requests wait and are tried again); a request not
 * in a batch `queueTimeoutMs` after it arrived is answered 503 and never counted, so a caller that gave up is not
 * counted later (once in a batch being written, a request is counted or fails with it).
 */
import { ServiceFailure } from '../errors.js';
import { incrementCounters, lockFreeRows, type CounterIncrement, type CounterKind, type CounterTotal } from '../persistence/counter-increments.js';
import { classify } from '../failure-policy.js';
import type { Sql } from '../persistence/database.js';
import type { RequestContext, ServiceDeps } from './deps.js';

export type { CounterKind };

export interface CounterOptions {
  kind: CounterKind;
  /** How long a lone request waits for company before its batch is flushed. Under load batches form by themselves. */
  flushIntervalMs: number;
  maxBatch: number;
  /**
   * Flushes in progress at once, each over its own partition of the distributions (partitionOf), so they do not
   * wait for each other's rows. Batches lock their rows in id order, so concurrent flushes cannot deadlock anyway.
   */
  maxConcurrentFlushes: number;
  /** Views/clicks taken and not yet answered, at most; past it add() refuses with OVERLOADED. */
  maxQueued: number;
  /** How long a flush waits for a row lock before that row is split off its batch. */
  lockTimeoutMs: number;
  /** How long a view/click may wait for its batch; past it, 503 and not counted. Below the clients' timeouts. */
  queueTimeoutMs: number;
}

export interface Counter {
  /** Counts one view/click; resolves with the distribution's committed total as of this one. */
  add(context: RequestContext, id: string, category: string): Promise<number>;
  /** Flushes what is queued and resolves when nothing is left in flight. */
  stop(): Promise<void>;
  /** What is waiting and how the last flush went, for `ops.health` and `ops.status`. */
  status(): CounterStatus;
  /** Views/clicks taken and not yet answered (queued or being written). */
  readonly pending: number;
}

export interface CounterStatus {
  /** Views/clicks waiting for a flush (not yet in a batch, or waiting for a row another transaction holds). */
  queued: number;
  /** Batches being written now. */
  flushing: number;
  /** ISO time the last flush ended, null before the first. */
  lastFlushAt: string | null;
  /** Whether the last flush committed; null before the first. */
  lastFlushOk: boolean | null;
  /** The last failed flush's error message; cleared by the next flush that commits. */
  lastError: string | null;
}

interface Pending {
  tenantId: string;
  id: string;
  /** Which of the maxConcurrentFlushes partitions of distributions it belongs to (partitionOf). */
  partition: number;
  category: string;
  /** performance.now() past which it is not put in a batch any more (answered 503). */
  deadline: number;
  resolve: (total: number) => void;
  reject: (err: unknown) => void;
}

interface Group {
  tenantId: string;
  id: string;
  items: Pending[];
}

const LOCK_NOT_AVAILABLE = '55P03';
const isLockTimeout = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === LOCK_NOT_AVAILABLE;

/** What one write of a batch did: the totals of the rows it counted, and the ids of rows another transaction held. */
interface Written {
  counted: CounterTotal[];
  held: Set<string>;
}

/**
 * Distributions are split into `partitions` by their id, and concurrent flushes take batches of different
 * partitions: their rows are disjoint, so they never wait for each other's row locks and really run at once (two
 * batches over the same hot rows would just queue behind each other's locks).
 */
function partitionOf(id: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0;
  return Math.abs(hash) % partitions;
}

/** The increments of groups: one per distribution and category, in the groups' order. */
function incrementsOf(groups: readonly Group[]): CounterIncrement[] {
  return groups.flatMap((g) => {
    const byCategory = new Map<string, number>();
    for (const item of g.items) byCategory.set(item.category, (byCategory.get(item.category) ?? 0) + 1);
    return [...byCategory].map(([category, n]) => ({ tenantId: g.tenantId, id: g.id, category, n }));
  });
}

/** A counter of one kind; flushes run on `deps.db`, each in a short transaction of its own (incrementCounters). */
export function createCounter(deps: ServiceDeps, options: CounterOptions): Counter {
  /** In arrival order, so the oldest (first to expire) are at the front; split-off requests go back to the front. */
  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  const active = new Set<Promise<void>>();
  /** Partitions with a batch being written: at most one batch per partition at a time. */
  const busy = new Set<number>();
  /** Waits of split-off requests before they are queued again. */
  const waits = new Set<Promise<void>>();
  /** Items in the batches of `active`. */
  let itemsBeingWritten = 0;
  /** Items in `waits`. */
  let itemsWaiting = 0;
  let stopping = false;
  let last: Pick<CounterStatus, 'lastFlushAt' | 'lastFlushOk' | 'lastError'> = { lastFlushAt: null, lastFlushOk: null, lastError: null };

  const pendingCount = () => queue.length + itemsWaiting + itemsBeingWritten;
  const expired = (item: Pending, now: number) => item.deadline <= now;
  const giveUp = (item: Pending) => item.reject(new ServiceFailure('UNAVAILABLE', `not counted: no write of it could start within ${options.queueTimeoutMs} ms; retry later`));

  /** A full batch goes at once; otherwise what has gathered goes when the timer fires. */
  function schedule(): void {
    if (queue.length >= options.maxBatch || options.flushIntervalMs === 0) pump();
    else timer ??= setTimeout(pump, options.flushIntervalMs);
  }

  /** Answers the requests at the front of the queue that are past their deadline, and arms the timer for the next. */
  function expire(): void {
    clearTimeout(expiryTimer);
    expiryTimer = undefined;
    const now = performance.now();
    const live = queue.findIndex((item) => !expired(item, now));
    const gone = live === -1 ? queue : queue.slice(0, live);
    queue = live === -1 ? [] : queue.slice(live);
    for (const item of gone) giveUp(item);
    const next = queue[0];
    if (next) expiryTimer = setTimeout(expire, Math.max(1, next.deadline - now));
  }

  /** Starts flushes while there is work and a free slot; each flush takes what has gathered, up to maxBatch. */
  function pump(): void {
    clearTimeout(timer);
    timer = undefined;
    expire();
    while (active.size < options.maxConcurrentFlushes) {
      // The oldest request whose partition is not being written decides the partition of the next batch.
      const lead = queue.find((item) => !busy.has(item.partition));
      if (!lead) break;
      const taken: Pending[] = [];
      const rest: Pending[] = [];
      for (const item of queue) (item.partition === lead.partition && taken.length < options.maxBatch ? taken : rest).push(item);
      queue = rest;
      // Split-off requests rejoin at the front, so one past its deadline may sit behind a live one.
      const now = performance.now();
      const batch = taken.filter((item) => !expired(item, now) || void giveUp(item));
      if (batch.length === 0) continue;
      itemsBeingWritten += batch.length;
      busy.add(lead.partition);
      const running: Promise<void> = flush(batch).finally(() => {
        active.delete(running);
        busy.delete(lead.partition);
        itemsBeingWritten -= batch.length;
        // What queued up while a batch was being written has had its company: it goes at once (group commit).
        if (queue.length > 0) pump();
      });
      active.add(running);
    }
  }

  /** Queues `items` again after a lock wait: the row they count was held by another transaction. */
  function retryLater(items: Pending[]): void {
    itemsWaiting += items.length;
    const waiting: Promise<void> = new Promise<void>((resolve) => setTimeout(resolve, options.lockTimeoutMs)).then(() => {
      waits.delete(waiting);
      itemsWaiting -= items.length;
      queue = [...items, ...queue];
      expire();
      schedule();
    });
    waits.add(waiting);
  }

  async function flush(batch: Pending[]): Promise<void> {
    const groups = new Map<string, Group>();
    for (const item of batch) {
      const key = `${item.tenantId}\u0000${item.id}`;
      const group = groups.get(key) ?? { tenantId: item.tenantId, id: item.id, items: [] };
      group.items.push(item);
      groups.set(key, group);
    }
    // In id order, the order the statement locks the rows in, and so the order the events are appended in.
    const ordered = [...groups.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    try {
      const { counted, held } = await write(ordered);
      const totals = new Map(counted.map((r) => [`${r.tenantId}\u0000${r.id}`, r.total]));
      for (const [key, group] of groups) {
        const total = totals.get(key);
        if (held.has(group.id)) retryLater(group.items);
        else
          group.items.forEach((item, index) => {
            if (total === undefined) item.reject(new ServiceFailure('NOT_FOUND', `distribution ${item.id} does not exist in this tenant`, { id: item.id }));
            else item.resolve(total - (group.items.length - 1 - index));
          });
      }
      last = { lastFlushAt: new Date().toISOString(), lastFlushOk: true, lastError: null };
    } catch (err) {
      last = { lastFlushAt: new Date().toISOString(), lastFlushOk: false, lastError: err instanceof Error ? err.message : String(err) };
      // Every request of the batch gets the failure; each is judged where it is answered.
      if (classify(err).disposition === 'fail') deps.log.error({ err, kind: options.kind }, 'counter flush failed');
      for (const item of batch) item.reject(err);
    }
  }

  /**
   * Counts the groups (and records them as pending announcement) in one statement, its own transaction, that waits at most lockTimeoutMs for a row. When a row is held longer,
   * a second transaction locks the free rows without waiting and counts only those: the held ones are reported.
   * Two instances flushing the same rows can still meet a serialization failure: one quick retry.
   */
  async function write(ordered: readonly Group[]): Promise<Written> {
    const countedAt = deps.now().toISOString();
    const lockWait = { lockTimeoutMs: options.lockTimeoutMs };
    const count = (tx: Sql, groups: readonly Group[]) =>
      groups.length === 0 ? Promise.resolve([]) : incrementCounters(tx, options.kind, incrementsOf(groups), countedAt, lockWait);
    // The common case is one statement, its own transaction: one round trip to the database per batch.
    const autocommit: Sql = { execute: (sql, params) => deps.db.statement(sql, params) };
    const attempt = async (): Promise<Written> => ({ counted: await count(autocommit, ordered), held: new Set<string>() });
    const splitting = (): Promise<Written> =>
      deps.db.transaction(async (tx) => {
        const held = await lockFreeRows(
          tx,
          ordered.map((g) => g.id),
        );
        return {
          counted: await count(
            tx,
            ordered.filter((g) => !held.has(g.id)),
          ),
          held,
        };
      }, lockWait);
    try {
      return await attempt();
    } catch (err) {
      if (isLockTimeout(err)) return splitting();
      if (classify(err).disposition !== 'retry-now') throw err;
      return attempt();
    }
  }

  return {
    add(context, id, category) {
      if (stopping) return Promise.reject(new ServiceFailure('SHUTTING_DOWN', 'the service is shutting down; retry on another instance'));
      if (pendingCount() >= options.maxQueued) {
        return Promise.reject(new ServiceFailure('OVERLOADED', `more than ${options.maxQueued} ${options.kind} are waiting to be counted; retry shortly`));
      }
      return new Promise<number>((resolve, reject) => {
        const deadline = performance.now() + options.queueTimeoutMs;
        queue.push({ tenantId: context.tenantId, id, partition: partitionOf(id, options.maxConcurrentFlushes), category, deadline, resolve, reject });
        expiryTimer ??= setTimeout(expire, options.queueTimeoutMs);
        schedule();
      });
    },
    async stop() {
      stopping = true;
      // Split-off requests wait for their row at most until their deadline, so this ends.
      while (queue.length > 0 || active.size > 0 || waits.size > 0) {
        pump();
        await Promise.all([...active, ...waits]);
      }
      clearTimeout(expiryTimer);
    },
    status: () => ({ queued: queue.length + itemsWaiting, flushing: active.size, ...last }),
    get pending() {
      return pendingCount();
    },
  };
}
