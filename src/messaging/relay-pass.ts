/**
 * One relay pass: read a batch of unpublished outbox rows, publish them to JetStream as one chain per
 * distribution, mark the acknowledged rows published and the others failed.
 *
 * Contracts
 * - At least once from the table, exactly once on the stream: a row is marked published only after its PubAck
 *   (a `duplicate: true` ack counts); any error, timeout or refusal keeps the row (attempts + 1, last_error) for
 *   a later pass. A row published but not marked (crash, lost database) is published again with the same
 *   Nats-Msg-Id and JetStream drops the copy: the stream's duplicate window must outlast the retry horizon
 *   (config.ts checks it). A row older than half the window is looked up first (the last message on its subject)
 *   and marked without a publish when it is that event, so a republish after the window does not duplicate it.
 * - Order per distribution: a pass reads up to `batchSize` unpublished rows in id order (= commit order per
 *   distribution, see outbox-relay-store.ts) and publishes them as one chain per distribution: a row is sent only
 *   after the previous row of its distribution was acknowledged, and a failure ends that chain for the pass.
 *   Different distributions' chains run concurrently, up to `maxInFlight` PubAcks outstanding.
 * - A session that is `lost`, or past its lease (relay-session.ts), publishes nothing more: the lock went with it.
 * - A row the stream refuses on its own (relay-refusal.ts) does not hold up other distributions: the pass goes on
 *   past it (only its distribution's later rows wait), and after `maxAttempts` such failures the row is parked
 *   (outbox-relay-store.ts): skipped with its distribution's later rows until an operator retries or discards it.
 *   Each sweep through the backlog tries such a row once; sweeps with failures are followed by the backoff.
 *
 * Pipelining (throughput): while a full batch is published, the next one is already read (rows after the batch's
 * last id, counting the batch's own rows as published: without that, a backlog spread over many distributions read
 * ahead nothing and every batch took two passes), and a batch's rows are marked while the next batch is published. Both queries run on the session's
 * one connection, in order. A read after the cursor may miss a row with a smaller id that committed late: such a
 * row has no committed successor in its distribution (ids follow commit order per distribution), and a pass from
 * the start picks it up before a pass reports `drained`. After a failure other than refusals of rows on their own
 * (or at the end of a sweep with failures) the prefetched batch is discarded and the next pass starts from the
 * first unpublished row.
 */
import type { JetStreamClient, JetStreamManager, PubAck } from '@nats-io/jetstream';
import type { RelayConfig } from '../config.js';
import { fetchUnpublished, markFailed, markPublished, type ParkedRow, type PublishFailure, type UnpublishedRow } from '../persistence/outbox-relay-store.js';
import type { RelaySession } from '../persistence/relay-session.js';
import { eventHeaders } from './event-headers.js';
import { isRowRefusal } from './relay-refusal.js';
import type { RelayCounters } from './relay-status.js';
import { withPrefix } from './subjects.js';

/** Test seams. `afterPublish` runs after a row's PubAck and before it is marked: throwing there simulates a crash. */
export interface RelayHooks {
  afterPublish?(row: UnpublishedRow, ack: PubAck): void | Promise<void>;
}

export interface RelayPassDeps {
  js: JetStreamClient;
  counters: RelayCounters;
  hooks?: RelayHooks;
}

export type RelayPassOptions = Pick<RelayConfig, 'batchSize' | 'maxInFlight' | 'publishTimeoutMs' | 'ceSource' | 'maxAttempts'> & {
  /** Deployment prefix put in front of each row's subject. */
  subjectPrefix: string;
  /** Publishes expect this stream (Nats-Expected-Stream): a foreign stream capturing the subject is a refusal. */
  streamName: string;
  /** The stream's duplicate window (STREAM_DUPLICATE_WINDOW_MS): older rows are looked up before a publish. */
  duplicateWindowMs: number;
};

/**
 * How a pass ended: `failed` = some rows were kept (the next pass starts from the start, after a backoff), and
 * `parked` lists the rows parked by it; `more` = run the next pass at once (a full batch, or a tail that a pass
 * from the start must confirm), `failing` when an earlier pass of this sweep kept rows the stream refused;
 * `drained` = a pass from the start found everything published and marked.
 */
export type PassOutcome = { kind: 'failed'; failed: number; parked: ParkedRow[] } | { kind: 'more'; failing: boolean } | { kind: 'drained' };

/** The passes of one session: each `run()` is one pass; `settle()` waits for its writes still in flight. */
export interface RelayPasses {
  run(): Promise<PassOutcome>;
  /** Waits for the last marking and the prefetched read, ignoring their errors (the session may be broken). */
  settle(): Promise<void>;
}

interface ReadBatch {
  rows: UnpublishedRow[];
  /** The read returned a whole batch: more may follow. */
  full: boolean;
  /** The last id the read returned (where the next read starts). */
  lastId: string | undefined;
}

interface BatchOutcome {
  published: string[];
  failures: PublishFailure[];
}

const ignore = () => undefined;

/** The session's lease ran out (no heartbeat succeeded lately): the row is kept and tried again. */
class RelayLeaseExpired extends Error {
  override name = 'RelayLeaseExpired';
  constructor() {
    super('the relay lock lease expired (no heartbeat lately); not publishing');
  }
}

/** Keeps a rejection observable to a later `await` without it counting as unhandled meanwhile. */
const handled = <T>(promise: Promise<T>) => (promise.catch(ignore), promise);

/** Passes on `session`, which must hold the relay lock. Calls to `run()` must not overlap. */
export function createRelayPasses(session: RelaySession, deps: RelayPassDeps, options: RelayPassOptions): RelayPasses {
  const { js, counters } = deps;
  const db = session.db;
  /** Where the next pass reads from: after this id, or from the start when undefined. */
  let cursor: string | undefined;
  /** The next batch read ahead: the rows to publish and the last id the read covered (rows may have been dropped). */
  let prefetched: Promise<ReadBatch> | undefined;
  let marking: Promise<void> = Promise.resolve();
  /** Rows kept and rows parked by the passes of this sweep (from the start to the end of the backlog). */
  let sweep: { failed: number; parked: ParkedRow[] } = { failed: 0, parked: [] };

  let manager: Promise<JetStreamManager> | undefined;

  /**
   * A row old enough that its first publish may have left the duplicate window: true when the last message on its
   * subject is this event (published before, not marked). Later events of the distribution are published only after
   * it, so the last message on the subject is it if it is on the stream at all (unless the stream's limits dropped
   * it). A failed lookup is no answer: the row is published as usual.
   */
  async function alreadyOnStream(row: UnpublishedRow, subject: string): Promise<boolean> {
    if (row.ageMs < options.duplicateWindowMs / 2) return false;
    try {
      manager ??= handled(js.jetstreamManager());
      const last = await (await manager).streams.getMessage(options.streamName, { last_by_subj: subject });
      return last?.header?.get('Nats-Msg-Id') === row.eventId;
    } catch {
      return false;
    }
  }

  async function publishOne(row: UnpublishedRow): Promise<void> {
    // A holder past its lease may already have been replaced (relay-session.ts): it must not publish.
    if (!session.leaseValid()) throw new RelayLeaseExpired();
    const subject = withPrefix(options.subjectPrefix, row.subject);
    if (await alreadyOnStream(row, subject)) {
      counters.duplicates++;
      return;
    }
    const ack = await js.publish(subject, row.body, {
      headers: eventHeaders({ eventId: row.eventId, eventType: row.eventType, aggregateId: row.aggregateId, time: row.time }, options.ceSource),
      timeout: options.publishTimeoutMs,
      expect: { streamName: options.streamName },
    });
    if (ack.duplicate) counters.duplicates++;
    await deps.hooks?.afterPublish?.(row, ack);
  }

  /** Publishes `rows` as per-distribution chains; a failure ends that chain (its later rows wait for the next pass). */
  async function publishChains(rows: readonly UnpublishedRow[]): Promise<BatchOutcome> {
    const chains = new Map<string, UnpublishedRow[]>();
    for (const row of rows) {
      const chain = chains.get(row.aggregateId);
      if (chain) chain.push(row);
      else chains.set(row.aggregateId, [row]);
    }
    const queue = [...chains.values()];
    let next = 0;
    const outcome: BatchOutcome = { published: [], failures: [] };
    const worker = async () => {
      for (let chain = queue[next++]; chain; chain = queue[next++]) {
        for (const row of chain) {
          if (session.lost) return;
          try {
            await publishOne(row);
            outcome.published.push(row.id);
          } catch (err) {
            outcome.failures.push({ id: row.id, error: describe(err), refused: isRowRefusal(err) });
            break; // later rows of this distribution wait for the next pass: order per distribution
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.maxInFlight, queue.length) }, worker));
    counters.published += outcome.published.length;
    counters.failedPublishes += outcome.failures.length;
    if (outcome.published.length > 0) counters.lastPublishedAt = new Date().toISOString();
    if (outcome.failures.length > 0) counters.lastError = outcome.failures[0]!.error;
    return outcome;
  }

  /** A batch after `afterId` (from the start when undefined), with `inFlight` being published meanwhile. */
  async function readBatch(afterId: string | undefined, inFlight: readonly UnpublishedRow[] = []): Promise<ReadBatch> {
    const rows = await fetchUnpublished(
      db,
      options.batchSize,
      afterId,
      inFlight.map((row) => row.id),
    );
    return { rows, full: rows.length >= options.batchSize, lastId: rows.at(-1)?.id };
  }

  return {
    async run() {
      const fromStart = cursor === undefined;
      const { rows, full, lastId } = await (prefetched ?? readBatch(cursor));
      prefetched = undefined;
      if (full) prefetched = handled(readBatch(lastId, rows));
      const outcome = await publishChains(rows);
      // The read ahead counted on this batch's rows being published: a distribution whose chain ended otherwise
      // (a failure, a lost session) keeps its later rows for the pass from the start.
      const published = new Set(outcome.published);
      const unfinished = new Set(rows.filter((row) => !published.has(row.id)).map((row) => row.aggregateId));
      if (prefetched && unfinished.size > 0) {
        prefetched = handled(prefetched.then((next) => ({ ...next, rows: next.rows.filter((row) => !unfinished.has(row.aggregateId)) })));
      }
      await marking;
      marking = handled(markPublished(db, outcome.published));

      const endSweep = (): PassOutcome => {
        const { failed, parked } = sweep;
        sweep = { failed: 0, parked: [] };
        cursor = undefined;
        return { kind: 'failed', failed, parked };
      };
      if (outcome.failures.length > 0) {
        sweep.failed += outcome.failures.length;
        sweep.parked.push(...(await markFailed(db, outcome.failures, options.maxAttempts)));
        // Past rows the stream refused on their own, the sweep goes on: reads after the cursor leave out their
        // distributions, so the rest of the backlog is published meanwhile. Any other failure ends the sweep.
        if (!full || !outcome.failures.every((f) => f.refused)) {
          await marking;
          await prefetched?.catch(ignore);
          prefetched = undefined;
          return endSweep();
        }
      }
      if (full) {
        cursor = lastId;
        return { kind: 'more', failing: sweep.failed > 0 };
      }
      await marking;
      if (sweep.failed > 0) return endSweep();
      cursor = undefined;
      return fromStart ? { kind: 'drained' } : { kind: 'more', failing: false }; // one pass from the start before calling it drained
    },
    async settle() {
      await marking.catch(ignore);
      await prefetched?.catch(ignore);
    },
  };
}

/** A row's last_error: the error's name and message; "no responders" is what a publish no stream captures gets. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const text = `${err.name}: ${err.message}`;
  return err.name === 'JetStreamNotEnabled' ? `${text} (no stream captures the subject, or JetStream is unavailable)` : text;
}
