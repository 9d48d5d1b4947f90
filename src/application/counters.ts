/**
 * View and enrollment-click counting by group commit: requests that arrive together are counted by one SQL
 * statement (the increments of the whole batch and one outbox row per distribution), and each request is answered
 * only after it commits, so an acknowledged view is a counted view; a failed batch fails every request in it, and
 * none of them is counted.
 *
 * Each distribution gets one aggregate event per flush carrying its new total (never one per click); its
 * referrer_category / cta_type is the most frequent one in that flush. No PII is stored or emitted: only counts.
 *
 * Counters do not pass through the distribution mailbox: an increment commutes with every other command, is
 * applied in SQL (`count = count + n`) and leaves row_version alone, so it never conflicts with an editor.
 */
import type { CtaType, ReferrerCategory } from '../../generated/types.js';
import type { EventDraft } from '../domain/distribution.js';
import { ServiceFailure } from '../errors.js';
import type { RequestContext, ServiceDeps } from './deps.js';
import type { SchemaName } from '../../generated/schemas.js';
import { buildEnvelope } from '../contracts/envelope.js';
import { formatIssues } from '../contracts/validator.js';
import { classify } from '../failure-policy.js';
import { InvalidEventError } from '../persistence/outbox.js';

export type CounterKind = 'views' | 'clicks';

export interface CounterOptions {
  kind: CounterKind;
  /** How long a lone request waits for company before its batch is flushed. Under load batches form by themselves. */
  flushIntervalMs: number;
  maxBatch: number;
  /** Flushes in progress at once. Batches lock their rows in id order, so concurrent flushes cannot deadlock. */
  maxConcurrentFlushes: number;
}

export interface Counter {
  /** Counts one view/click; resolves with the distribution's committed total as of this one. */
  add(context: RequestContext, id: string, category: string): Promise<number>;
  /** Flushes what is queued and resolves when nothing is left in flight. */
  stop(): Promise<void>;
}

interface Pending {
  tenantId: string;
  id: string;
  correlationId: string;
  commandId: string;
  category: string;
  resolve: (total: number) => void;
  reject: (err: unknown) => void;
}

interface Group {
  tenantId: string;
  id: string;
  items: Pending[];
}

interface UpdatedRow {
  id: string;
  tenant_id: string;
  total: string | number;
}

/** The column counted, which is also the name of the total in the event's payload. */
const COLUMN: Record<CounterKind, 'view_count' | 'enrollment_count'> = { views: 'view_count', clicks: 'enrollment_count' };

/** Stands in for the slug until the statement fills in the row's own (a valid slug, so the draft validates). */
const SLUG_PLACEHOLDER = 'pending';

/** Two instances flushing the same rows can still meet a serialization failure: one quick retry. */
async function withConflictRetry<T>(statement: () => Promise<T>): Promise<T> {
  try {
    return await statement();
  } catch (err) {
    if (classify(err).disposition !== 'retry-now') throw err;
    return statement();
  }
}

function draftFor(kind: CounterKind, id: string, count: number, at: string, category: string): EventDraft {
  switch (kind) {
    case 'views':
      return {
        type: 'distribution.viewed',
        payload: { distribution_id: id, slug: SLUG_PLACEHOLDER, view_count: count, viewed_at: at, referrer_category: category as ReferrerCategory },
      };
    case 'clicks':
      return {
        type: 'distribution.enrollment_clicked',
        payload: { distribution_id: id, slug: SLUG_PLACEHOLDER, enrollment_count: count, clicked_at: at, cta_type: category as CtaType },
      };
  }
}

/**
 * An aggregate event has one correlation and causation: the request's own when the event stands for one request
 * (or for requests that all share a correlation id), else the flush's.
 */
function eventLineage(items: readonly Pending[], batch: { correlationId: string; commandId: string }): { correlationId: string; causationId: string } {
  const [first] = items;
  const correlationId = first && items.every((i) => i.correlationId === first.correlationId) ? first.correlationId : batch.correlationId;
  const causationId = first && items.length === 1 ? first.commandId : batch.commandId;
  return { correlationId, causationId };
}

function mostFrequent(items: readonly Pending[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.category, (counts.get(item.category) ?? 0) + 1);
  return [...counts.entries()].reduce((best, entry) => (entry[1] > best[1] ? entry : best))[0];
}

export function createCounter(deps: ServiceDeps, options: CounterOptions): Counter {
  const column = COLUMN[options.kind];
  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  const active = new Set<Promise<void>>();
  let stopping = false;

  /** A full batch goes at once; otherwise what has gathered goes when the timer fires. */
  function schedule(): void {
    if (queue.length >= options.maxBatch || options.flushIntervalMs === 0) pump();
    else timer ??= setTimeout(pump, options.flushIntervalMs);
  }

  /** Starts flushes while there is work and a free slot; each flush takes what has gathered, up to maxBatch. */
  function pump(): void {
    clearTimeout(timer);
    timer = undefined;
    while (queue.length > 0 && active.size < options.maxConcurrentFlushes) {
      const batch = queue.slice(0, options.maxBatch);
      queue = queue.slice(batch.length);
      const running: Promise<void> = flush(batch).finally(() => {
        active.delete(running);
        if (queue.length > 0) schedule();
      });
      active.add(running);
    }
  }

  async function flush(batch: Pending[]): Promise<void> {
    const groups = new Map<string, Group>();
    for (const item of batch) {
      const key = `${item.tenantId}\u0000${item.id}`;
      const group = groups.get(key) ?? { tenantId: item.tenantId, id: item.id, items: [] };
      group.items.push(item);
      groups.set(key, group);
    }
    // Rows are locked in id order by every batch, so two instances' batches cannot deadlock.
    const ordered = [...groups.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    try {
      const now = deps.now().toISOString();
      const batchIds = { correlationId: deps.newId('corr'), commandId: deps.newId('cmd') };
      // Each group's event is built and validated here with every field final except the two only the database
      // knows (the slug, the new total); the statement fills those in from the row it updates.
      const increments = ordered.map((g) => {
        const draft = draftFor(options.kind, g.id, g.items.length, now, mostFrequent(g.items));
        const envelope = buildEnvelope(draft, { eventId: deps.newId('evt'), timestamp: now, tenantId: g.tenantId, ...eventLineage(g.items, batchIds) });
        const checked = deps.validator.validate(envelope.type as SchemaName, envelope);
        if (!checked.ok) throw new InvalidEventError(`${envelope.type} violates its schema: ${formatIssues(checked.issues)}`);
        return { tenant_id: g.tenantId, id: g.id, n: g.items.length, envelope };
      });
      // One statement, so one round trip and atomic on its own: lock the rows in id order (concurrent flushes
      // cannot deadlock), add the increments, append one outbox row per distribution with the new total.
      const rows = await withConflictRetry(() =>
        deps.orm.em.fork().execute<UpdatedRow[]>(
          `with v as (
             select * from jsonb_to_recordset(?::jsonb) as v(tenant_id text, id text, n bigint, envelope jsonb)
           ), locked as (
             select d.id from distribution d join v on d.tenant_id = v.tenant_id and d.id = v.id
              where d.deleted_at is null order by d.id for update of d
           ), updated as (
             update distribution d set ${column} = d.${column} + v.n
               from v, locked where d.id = locked.id and d.id = v.id and d.tenant_id = v.tenant_id
             returning d.id, d.tenant_id, d.${column} as total,
               jsonb_set(jsonb_set(v.envelope, '{payload,slug}', to_jsonb(d.slug)), '{payload,${column}}', to_jsonb(d.${column})) as envelope
           ), appended as (
             insert into outbox_event (event_id, event_type, subject, aggregate_id, tenant_id, envelope, created_at)
             select envelope->>'id', envelope->>'type', (envelope->>'type') || '.' || id, id, tenant_id, envelope, (envelope->>'timestamp')::timestamptz
               from updated order by id
           )
           select id, tenant_id, total from updated`,
          [JSON.stringify(increments)],
        ),
      );
      const totals = new Map(rows.map((r) => [`${r.tenant_id}\u0000${r.id}`, Number(r.total)]));
      for (const [key, group] of groups) {
        const total = totals.get(key);
        group.items.forEach((item, index) => {
          if (total === undefined) item.reject(new ServiceFailure('NOT_FOUND', `distribution ${item.id} does not exist in this tenant`, { id: item.id }));
          else item.resolve(total - (group.items.length - 1 - index));
        });
      }
    } catch (err) {
      // Every request of the batch gets the failure; each is judged where it is answered.
      if (classify(err).disposition === 'fail') deps.log.error({ err, kind: options.kind }, 'counter flush failed');
      for (const item of batch) item.reject(err);
    }
  }

  return {
    add(context, id, category) {
      if (stopping) return Promise.reject(new ServiceFailure('SHUTTING_DOWN', 'the service is shutting down; retry on another instance'));
      return new Promise<number>((resolve, reject) => {
        queue.push({ tenantId: context.tenantId, id, correlationId: context.correlationId, commandId: context.commandId, category, resolve, reject });
        schedule();
      });
    },
    async stop() {
      stopping = true;
      while (queue.length > 0 || active.size > 0) {
        pump();
        await Promise.all(active);
      }
    },
  };
}
