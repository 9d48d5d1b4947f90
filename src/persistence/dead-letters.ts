/** Dead letters: messages that can never be processed as they are, kept whole with the reason, for operators. */
import type { Sql } from './database.js';

export interface NewDeadLetter {
  consumer: string;
  messageId: string | null;
  subject: string;
  headers: Record<string, string[]>;
  data: Uint8Array;
  reason: string;
  deliveryCount: number;
  stream: string | null;
  streamSeq: number | null;
}

export interface DeadLetter extends NewDeadLetter {
  id: number;
  failedAt: string;
  replayedAt: string | null;
  replayOutcome: string | null;
}

interface DeadLetterRecord {
  id: string | number;
  consumer: string;
  message_id: string | null;
  subject: string;
  headers: Record<string, string[]>;
  data: Buffer;
  reason: string;
  delivery_count: number;
  stream: string | null;
  stream_seq: string | number | null;
  failed_at: string | Date;
  replayed_at: string | Date | null;
  replay_outcome: string | null;
}

const iso = (d: string | Date | null): string | null => (d ? new Date(d).toISOString() : null);

function fromRecord(r: DeadLetterRecord): DeadLetter {
  return {
    id: Number(r.id),
    consumer: r.consumer,
    messageId: r.message_id,
    subject: r.subject,
    headers: r.headers,
    data: new Uint8Array(r.data),
    reason: r.reason,
    deliveryCount: r.delivery_count,
    stream: r.stream,
    streamSeq: r.stream_seq === null ? null : Number(r.stream_seq),
    failedAt: iso(r.failed_at)!,
    replayedAt: iso(r.replayed_at),
    replayOutcome: r.replay_outcome,
  };
}

/**
 * Stores a dead letter and returns its id; when an open (not replayed) letter of the same consumer and message id
 * exists, nothing is stored and that letter's id is returned: a message whose term() was lost comes back and is
 * dead-lettered again, and an operator must see it once (unique index dead_letter_open_message_uq).
 */
export async function storeDeadLetter(db: Sql, letter: NewDeadLetter): Promise<number> {
  const [row] = await db.execute<{ id: string }>(
    `with stored as (
       insert into dead_letter (consumer, message_id, subject, headers, data, reason, delivery_count, stream, stream_seq)
       values (?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?)
       on conflict (consumer, message_id) where replayed_at is null and message_id is not null do nothing
       returning id
     )
     select id from stored
     union all
     select id from dead_letter where consumer = ? and message_id = ? and replayed_at is null
     limit 1`,
    [
      letter.consumer,
      letter.messageId,
      letter.subject,
      JSON.stringify(letter.headers),
      Buffer.from(letter.data),
      letter.reason,
      letter.deliveryCount,
      letter.stream,
      letter.streamSeq,
      letter.consumer,
      letter.messageId,
    ],
  );
  return Number(row!.id);
}

/** Dead letters in id order after `afterId`; by default only those not replayed successfully yet. */
export async function listDeadLetters(db: Sql, options: { afterId?: number; limit: number; includeReplayed?: boolean }): Promise<DeadLetter[]> {
  const rows = await db.execute<DeadLetterRecord>(`select * from dead_letter where id > ? ${options.includeReplayed ? '' : 'and replayed_at is null'} order by id limit ?`, [
    options.afterId ?? 0,
    options.limit,
  ]);
  return rows.map(fromRecord);
}

export async function findDeadLetter(db: Sql, id: number): Promise<DeadLetter | null> {
  const [row] = await db.execute<DeadLetterRecord>(`select * from dead_letter where id = ?`, [id]);
  return row ? fromRecord(row) : null;
}

export async function markDeadLetterReplayed(db: Sql, id: number, outcome: string): Promise<void> {
  await db.execute(`update dead_letter set replayed_at = now(), replay_outcome = ? where id = ?`, [outcome, id]);
}

/**
 * Deletes up to `batchSize` letters replayed before `replayedBefore` (open letters are never deleted); returns how
 * many went. Reads the partial index `dead_letter_replayed_idx`, which holds the replayed letters only.
 */
export async function deleteDeadLettersReplayedBefore(db: Sql, replayedBefore: Date, batchSize: number): Promise<number> {
  const deleted = await db.execute<{ n: number }>(
    `with old as (select id from dead_letter where replayed_at < ? order by replayed_at limit ?)
     delete from dead_letter d using old where d.id = old.id returning 1 as n`,
    [replayedBefore, batchSize],
  );
  return deleted.length;
}

/**
 * Letters not replayed successfully yet. Cheap at any table size: the partial index `dead_letter_open_idx` holds
 * exactly the open letters, so the count reads that index only.
 */
export async function countOpenDeadLetters(db: Sql): Promise<number> {
  const [row] = await db.execute<{ n: string }>(`select count(*)::text as n from dead_letter where replayed_at is null`);
  return Number(row?.n ?? 0);
}
