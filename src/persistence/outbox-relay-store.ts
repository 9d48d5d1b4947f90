/**
 * The relay's side of the outbox table: read unpublished rows in id order, mark them published (only after their
 * PubAck), record failures, delete old published rows, measure the backlog. Every function runs on the relay's
 * own connection (see relay-session.ts), outside any business transaction.
 *
 * Order: within one distribution, outbox ids follow commit order, because every transaction that appends an event
 * for a distribution first writes (and so row-locks) that distribution, and takes its ids only after the lock.
 * Across distributions a smaller id may commit later; such a row is picked up by the next pass from the start,
 * never skipped (the bug of Watermill #311), and until then no later row of its distribution is read.
 *
 * Parked rows (`parked_at`, see markFailed) are never read, and neither is any later row of their distribution:
 * a parked row holds up its own distribution only, until an operator retries or discards it (parked-outbox.ts).
 */

/** The part of pg.Client the store needs. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface UnpublishedRow {
  /** bigserial, as a string (pg returns int8 as text). */
  id: string;
  eventId: string;
  eventType: string;
  /** `<type>.<distribution id>`, without any deployment prefix. */
  subject: string;
  aggregateId: string;
  /** The envelope JSON, as stored. */
  body: string;
  /** The envelope timestamp (RFC 3339). */
  time: string;
  attempts: number;
  /** Since the row was created, by the database's clock. */
  ageMs: number;
}

/**
 * Up to `limit` unpublished rows in id order, after `afterId` when given (the relay's pipelined reads).
 * A read after `afterId` leaves out every row whose distribution still has an unpublished row at or before
 * `afterId`: one that committed after the relay read past its id, or that failed. Publishing the later row first
 * would break the order per distribution; both are published by the next pass from the start, in id order.
 * The rows of `inFlight` (the batch being published while this one is read) do not count as such: the caller
 * publishes what this returns only after that batch's chains ended, and drops the rows of a distribution whose
 * chain did not end with all its rows acknowledged.
 * Parked rows, and every row with a parked row before it in its distribution, are left out of every read.
 */
export async function fetchUnpublished(db: Queryable, limit: number, afterId?: string, inFlight: readonly string[] = []): Promise<UnpublishedRow[]> {
  const result = await db.query<UnpublishedRow>(
    `select o.id::text as id, event_id as "eventId", event_type as "eventType", subject, aggregate_id as "aggregateId",
            envelope::text as body,
            coalesce(envelope->>'timestamp', to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) as time,
            attempts, (extract(epoch from now() - created_at) * 1000)::float8 as "ageMs"
       from outbox_event o
      where published_at is null and parked_at is null and o.id > $2
        and not exists (select 1 from outbox_event e
                         where e.aggregate_id = o.aggregate_id and e.published_at is null and e.id < o.id
                           and (e.id <= $2 or e.parked_at is not null) and e.id <> all($3::bigint[]))
      order by o.id limit $1`, // o.id: the bigint, not the text alias `id` (which would sort 10 before 5)
    [limit, afterId ?? '0', inFlight],
  );
  return result.rows;
}

/** Marks rows published; only ever called with ids whose PubAck arrived (a duplicate ack included). */
export async function markPublished(db: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(`update outbox_event set published_at = now(), last_error = null where id = any($1::bigint[]) and published_at is null`, [ids]);
}

/** A failed publish of one row; `refused`: the stream refused this row itself (it counts toward parking). */
export interface PublishFailure {
  id: string;
  error: string;
  refused: boolean;
}

/** A row markFailed parked. */
export interface ParkedRow {
  id: string;
  eventId: string;
  subject: string;
  attempts: number;
  /** Since the row was created, by the database's clock. */
  ageMs: number;
}

/**
 * Keeps failed rows for the next pass: attempts + 1 and the reason. A row whose failure was a refusal of the row
 * itself and that has now failed `maxAttempts` times is parked (`parked_at`): returned, and no longer read.
 */
export async function markFailed(db: Queryable, failures: readonly PublishFailure[], maxAttempts: number): Promise<ParkedRow[]> {
  if (failures.length === 0) return [];
  const result = await db.query<ParkedRow & { parked: boolean }>(
    `update outbox_event o set attempts = o.attempts + 1, last_error = f.error,
            parked_at = case when f.refused and o.attempts + 1 >= $4 then now() end
       from unnest($1::bigint[], $2::text[], $3::boolean[]) as f(id, error, refused)
      where o.id = f.id and o.published_at is null
      returning o.id::text as id, o.event_id as "eventId", o.subject, o.attempts, o.parked_at is not null as parked`,
    [failures.map((f) => f.id), failures.map((f) => f.error.slice(0, 1000)), failures.map((f) => f.refused), maxAttempts],
  );
  return result.rows.filter((r) => r.parked).map(({ parked: _parked, ...row }) => row);
}

/** Deletes at most `limit` rows published before `olderThanMs` ago; returns how many. Run by the active relay only. */
export async function deletePublished(db: Queryable, olderThanMs: number, limit: number): Promise<number> {
  const result = await db.query(
    `delete from outbox_event where id in (
       select id from outbox_event where published_at < now() - $1 * interval '1 millisecond' order by published_at limit $2)`,
    [olderThanMs, limit],
  );
  return result.rowCount ?? 0;
}

export interface Backlog {
  unpublished: number;
  /** Age of the oldest unpublished row in ms, or null when there is none. */
  oldestAgeMs: number | null;
}

/**
 * The backlog query. Both parts read the partial index `outbox_event_unpublished_idx` (id where published_at is
 * null), never the published rows however many are kept: the count is an index-only scan of the unpublished
 * part, and the oldest row is the first id of that index (ids follow creation order), one heap fetch.
 */
export const BACKLOG_SQL = `select (select count(*) from outbox_event where published_at is null)::text as n,
  (select (extract(epoch from now() - created_at) * 1000)::bigint::text
     from outbox_event where published_at is null order by id limit 1) as age_ms`;

/** The row of BACKLOG_SQL as a Backlog. */
export function toBacklog(row: { n: string; age_ms: string | null } | undefined): Backlog {
  return { unpublished: Number(row?.n ?? 0), oldestAgeMs: row?.age_ms == null ? null : Number(row.age_ms) };
}

export async function measureBacklog(db: Queryable): Promise<Backlog> {
  const result = await db.query<{ n: string; age_ms: string | null }>(BACKLOG_SQL);
  return toBacklog(result.rows[0]);
}
