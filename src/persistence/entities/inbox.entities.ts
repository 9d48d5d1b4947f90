import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** A consumed message whose effect is committed: claimed first, in the same transaction as the effect. */
export const ProcessedMessageEntity = defineEntity({
  name: 'ProcessedMessage',
  tableName: 'processed_message',
  properties: {
    consumer: p.string().columnType('text').primary(),
    /** Nats-Msg-Id, else the envelope id, else `<stream>:<sequence>` (see upstream-consumer.ts). */
    messageId: p.string().columnType('text').primary(),
    stream: p.string().columnType('text'),
    streamSeq: p.bigint('number'),
    subject: p.string().columnType('text'),
    processedAt: p.datetime().columnType('timestamptz').defaultRaw('now()'),
  },
  indexes: [{ name: 'processed_message_processed_at_idx', properties: ['processedAt'] }],
});

/** A message that can never be processed as it is, kept whole (subject, headers, bytes) for an operator. */
export const DeadLetterEntity = defineEntity({
  name: 'DeadLetter',
  tableName: 'dead_letter',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    consumer: p.string().columnType('text'),
    messageId: p.string().columnType('text').nullable(),
    subject: p.string().columnType('text'),
    headers: p.json<Record<string, string[]>>().columnType('jsonb'),
    data: p.blob(),
    reason: p.string().columnType('text'),
    deliveryCount: p.integer(),
    stream: p.string().columnType('text').nullable(),
    streamSeq: p.bigint('number').nullable(),
    failedAt: p.datetime().columnType('timestamptz').defaultRaw('now()'),
    replayedAt: p.datetime().columnType('timestamptz').nullable(),
    replayOutcome: p.string().columnType('text').nullable(),
  },
  indexes: [
    { name: 'dead_letter_open_idx', expression: 'create index dead_letter_open_idx on dead_letter (id) where replayed_at is null' },
    // The replayed letters by replay time, for the retention cleanup (deleteDeadLettersReplayedBefore).
    { name: 'dead_letter_replayed_idx', expression: 'create index dead_letter_replayed_idx on dead_letter (replayed_at) where replayed_at is not null' },
  ],
  uniques: [
    // One open letter per consumed message (Migration20261208130000DeadLetterOnce; storeDeadLetter: a redelivery after a lost term() finds its letter).
    {
      name: 'dead_letter_open_message_uq',
      expression: 'create unique index dead_letter_open_message_uq on dead_letter (consumer, message_id) where replayed_at is null and message_id is not null',
    },
  ],
});

/** The latest staging deployment of a course, applied to distributions of the course created later. */
export const CourseStagingEntity = defineEntity({
  name: 'CourseStaging',
  tableName: 'course_staging',
  properties: {
    courseId: p.string().columnType('text').primary(),
    stagingUrl: p.string().columnType('text'),
    deployedAt: p.datetime().columnType('timestamptz'),
    receivedAt: p.datetime().columnType('timestamptz').defaultRaw('now()'),
  },
});

export type ProcessedMessageRow = InferEntity<typeof ProcessedMessageEntity>;
export type DeadLetterRow = InferEntity<typeof DeadLetterEntity>;
export type CourseStagingRow = InferEntity<typeof CourseStagingEntity>;
