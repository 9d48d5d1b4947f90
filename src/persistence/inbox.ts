/**
 * The inbox: exactly-once effects for consumed messages. `claimMessage` runs first in the transaction of the
 * effect; a message already claimed (committed by an earlier delivery, replay or instance) is a duplicate, and the
 * caller acks it without doing anything. A concurrent delivery of the same message waits on the claim and then sees
 * it taken. Rows are kept for the dedup retention and deleted in bounded batches.
 */
import type { Sql } from './database.js';
import { TEXT_KEY_LOCK_SQL, textKeyLockOf } from './advisory-locks.js';

export interface MessageIdentity {
  consumer: string;
  messageId: string;
  stream: string;
  streamSeq: number;
  subject: string;
}

/**
 * True when this transaction claimed the message; false when it was processed before (a duplicate).
 * With `serialiseOn`, the transaction-scoped text lock of that name (advisory-locks.ts) is taken first, in the same
 * statement (one round trip): whatever else holds it finishes first, across instances, and this transaction then
 * holds it until it ends.
 */
export async function claimMessage(db: Sql, message: MessageIdentity, serialiseOn?: string): Promise<boolean> {
  const row = [message.consumer, message.messageId, message.stream, message.streamSeq, message.subject];
  const claimed = await db.execute<{ message_id: string }>(
    serialiseOn === undefined
      ? `insert into processed_message (consumer, message_id, stream, stream_seq, subject)
         values (?, ?, ?, ?, ?) on conflict do nothing returning message_id`
      : `insert into processed_message (consumer, message_id, stream, stream_seq, subject)
         select ?, ?, ?, ?, ? from (select ${TEXT_KEY_LOCK_SQL}) as serialised
         on conflict do nothing returning message_id`,
    serialiseOn === undefined ? row : [...row, serialiseOn],
  );
  return claimed.length === 1;
}

/** Deletes up to `batchSize` processed-message rows older than `olderThan`; returns how many went. */
export async function deleteProcessedMessagesBefore(db: Sql, olderThan: Date, batchSize: number): Promise<number> {
  const deleted = await db.execute<{ n: number }>(
    `with old as (
       select consumer, message_id from processed_message where processed_at < ? order by processed_at limit ?
     )
     delete from processed_message p using old where p.consumer = old.consumer and p.message_id = old.message_id
     returning 1 as n`,
    [olderThan, batchSize],
  );
  return deleted.length;
}

/**
 * Claims several messages in one statement (the batched consumer): returns the message ids this transaction
 * claimed; the others were processed before. A message id that occurs twice in `messages` is claimed once (by its
 * first occurrence: the caller treats the later ones as duplicates). The transaction-scoped text locks named
 * `serialiseOn` are taken first, in the same statement, in sorted order (so two batches, in any instances, cannot
 * wait for each other in a cycle), and held until the transaction ends: the batch serialises with every other
 * claim of the same names, as claimMessage does.
 */
export async function claimMessages(db: Sql, messages: readonly MessageIdentity[], serialiseOn: readonly string[]): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const locks = [...new Set(serialiseOn)].sort();
  const column = <K extends keyof MessageIdentity>(key: K) => messages.map((m) => m[key]);
  const claimed = await db.execute<{ message_id: string }>(
    `with serialised as materialized (select count(*) from (select ${textKeyLockOf('k')} from unnest(?::text[]) as k) as locks)
     insert into processed_message (consumer, message_id, stream, stream_seq, subject)
     select m.consumer, m.message_id, m.stream, m.stream_seq, m.subject
       from unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[]) with ordinality as m(consumer, message_id, stream, stream_seq, subject, position), serialised
      order by m.position
     on conflict do nothing returning message_id`,
    [locks, column('consumer'), column('messageId'), column('stream'), column('streamSeq'), column('subject')],
  );
  return new Set(claimed.map((row) => row.message_id));
}
