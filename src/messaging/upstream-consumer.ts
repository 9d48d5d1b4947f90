/**
 * The upstream consumer: CourseFactory's events from the durable JetStream consumer, each settled exactly one way;
 * nothing is dropped silently. Who acks: this module, always after the message's transaction has ended (with
 * CONSUMER_BATCH_SIZE > 1 the messages one pull buffered share one transaction, upstream-batch.ts; a batch that
 * fails is handled again one message per transaction, so each message below is still settled on its own).
 * - processed (applied, no-op, duplicate, ignored) -> ack;
 * - failed -> the failure policy judges it and consumer-settlement.ts picks nak(delay) or dead letter (subject,
 *   headers, bytes, reason, delivery count) + term(). term() carries no reason: nats-server 2.9 ignores a term
 *   with one and redelivers the message;
 * - a dead letter that cannot be stored is never given up: the message is nak'ed(delay) and comes back (the
 *   server's max_deliver is above the service's limit), or, on the server's last delivery, kept in hand while
 *   storing is retried;
 * - a database that cannot serve (failure-policy.ts `databaseUnavailable`: unreachable, read-only, out of
 *   resources) also pauses intake (intake-pause.ts) until it answers and takes writes.
 * Every settled message is logged in one line (consumer-log.ts has the fields and levels).
 * The pieces: consumer-pull-loop.ts pulls, upstream-message.ts decodes and routes (application), this file settles.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream, type ConsumerInfo, type JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import type { ConsumerSettings } from '../config.js';
import type { ServiceDeps } from '../application/deps.js';
import type { Sql } from '../persistence/database.js';
import {
  consumedEventTypeOf,
  createUpstreamMessageHandler,
  messageIdOfUndecoded,
  type MessageIdentification,
  type ProcessOutcome,
  type UpstreamDelivery,
} from '../application/upstream-message.js';
import { ServiceFailure } from '../errors.js';
import { classify, type FailureOutcome } from '../failure-policy.js';
import { markDeadLetterReplayed, storeDeadLetter, type DeadLetter } from '../persistence/dead-letters.js';
import { consumedLogLevel, type ConsumedLogFields, type ConsumedOutcome } from './consumer-log.js';
import { createUpstreamBatchHandler } from '../application/upstream-batch.js';
import { createBatcher } from './consumer-batcher.js';
import { createPullLoop } from './consumer-pull-loop.js';
import { deadLetterDelivery, retryDelay, settleFailure, type DeliveryLimits } from './consumer-settlement.js';
import { createIntakePause } from './intake-pause.js';
import { millisecondsSince } from './log-duration.js';

export type { ProcessOutcome, UpstreamDelivery } from '../application/upstream-message.js';

export interface ConsumerHooks {
  /** Test seam: called after the transaction committed, before the ack; returning false skips the ack (a crash). */
  beforeAck?: (delivery: UpstreamDelivery, outcome: ProcessOutcome) => boolean;
  /** Test seam: called after the dead letter was stored, before term(); returning false skips the term (a crash). */
  beforeTerm?: (delivery: UpstreamDelivery) => boolean;
}

export interface UpstreamConsumer {
  start(): void;
  /** Stops pulling and waits for the messages in hand to be settled. */
  stop(): Promise<void>;
  /** Runs a dead letter's original message through the same path (same dedup) and records the outcome. */
  replay(letter: DeadLetter): Promise<ProcessOutcome>;
  /** `pulling`: a pull from the durable consumer is open now. */
  status(): { paused: boolean; pulling: boolean; inFlight: number; processed: number; deadLettered: number };
}

export function headersToRecord(headers: MsgHdrs | undefined): Record<string, string[]> {
  const record: Record<string, string[]> = {};
  for (const [key, values] of headers ?? []) record[key] = values;
  return record;
}

/** What failed, for the dead letter's reason and the log: a refusal names its event type and code. */
export function describeFailure(subjectPrefix: string, delivery: UpstreamDelivery, err: unknown, outcome: FailureOutcome): string {
  if (err instanceof ServiceFailure && outcome.disposition === 'reject') {
    return `${consumedEventTypeOf(subjectPrefix, delivery.subject) ?? delivery.subject} refused: ${err.code}: ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The probe of a paused consumer: the database answers and takes writes (a replica after a failover does not). */
export async function probeWritable(db: Sql): Promise<void> {
  const [row] = await db.execute<{ read_only: boolean }>(`select pg_is_in_recovery() or current_setting('transaction_read_only') = 'on' as read_only`);
  if (row?.read_only) throw new Error('the database is read-only');
}

export function createUpstreamConsumer(nc: NatsConnection, deps: ServiceDeps, settings: ConsumerSettings, subjectPrefix: string, hooks: ConsumerHooks = {}): UpstreamConsumer {
  const log = deps.log.child({ component: 'upstream-consumer', consumer: settings.durableName });
  const decoding = { consumerName: settings.durableName, subjectPrefix, maxEventBytes: settings.maxEventBytes };
  const handle = createUpstreamMessageHandler(deps, decoding);
  const handleBatch = createUpstreamBatchHandler(deps, decoding);
  const stopped = new AbortController();
  let processed = 0;
  let deadLettered = 0;
  /** Until the durable is read at the first subscription: no deliveries assumed in reserve. */
  const limits: DeliveryLimits = { maxDeliver: settings.maxDeliver, serverMaxDeliver: settings.maxDeliver };
  let durableRead = false;
  const wait = (ms: number) => sleep(ms, undefined, { signal: stopped.signal }).catch(() => undefined);

  const pause = createIntakePause({
    probe: () => probeWritable(deps.db),
    retryBaseMs: settings.retryBaseMs,
    retryMaxMs: settings.retryMaxMs,
    onPause: () => pullLoop.interrupt(),
    signal: stopped.signal,
    log,
  });
  const pullLoop = createPullLoop(jetstream(nc), settings, { settle: settleInTurn, pause, signal: stopped.signal, log, onSubscribed });

  /** Takes the durable's max_deliver as the server has it; one that keeps no deliveries in reserve is reported. */
  function onSubscribed(info: ConsumerInfo): void {
    const serverMaxDeliver = info.config.max_deliver ?? -1;
    if (durableRead && serverMaxDeliver === limits.serverMaxDeliver) return;
    durableRead = true;
    limits.serverMaxDeliver = serverMaxDeliver;
    const fields = { max_deliver: serverMaxDeliver, consumer_max_deliver: settings.maxDeliver, dead_letter_delivery: deadLetterDelivery(limits) };
    if (serverMaxDeliver > 0 && serverMaxDeliver <= settings.maxDeliver) {
      log.warn(
        fields,
        'the durable keeps no deliveries in reserve (max_deliver <= CONSUMER_MAX_DELIVER): a dead letter that cannot be stored on its last delivery is held in process; set max_deliver to -1',
      );
    } else {
      log.info(fields, 'delivery limits read from the durable');
    }
  }

  /**
   * Stores the dead letter under the message's dedup key (one open letter per key: a redelivery after a lost term()
   * finds the letter already stored); its id goes on the message's line.
   */
  async function deadLetter(delivery: UpstreamDelivery, seen: MessageIdentification, reason: string, deliveryCount: number, line: ConsumedLogFields): Promise<void> {
    line.dead_letter_id = await storeDeadLetter(deps.db, {
      consumer: settings.durableName,
      messageId: seen.messageId ?? messageIdOfUndecoded(delivery, settings.maxEventBytes),
      subject: delivery.subject,
      headers: delivery.headers,
      data: delivery.data,
      reason,
      deliveryCount,
      stream: delivery.stream,
      streamSeq: delivery.streamSeq,
    });
    deadLettered++;
  }

  /** Settles a message whose handling threw: dead letter + term(), or nak(delay); returns which. */
  async function settleFailed(m: JsMsg, delivery: UpstreamDelivery, seen: MessageIdentification, err: unknown, line: ConsumedLogFields): Promise<ConsumedOutcome> {
    const deliveryCount = m.info.deliveryCount;
    const outcome = classify(err);
    line.code = outcome.code;
    const description = describeFailure(subjectPrefix, delivery, err, outcome);
    const settlement = settleFailure(outcome, deliveryCount, limits, description);
    if (settlement.action === 'dead-letter' && (await storeDeadLetterOrKeep(delivery, seen, settlement, deliveryCount, line))) {
      if (hooks.beforeTerm && !hooks.beforeTerm(delivery)) return 'dead_lettered';
      m.term();
      line.reason = settlement.reason;
      return 'dead_lettered';
    }
    line.retry_in_ms = retryDelay(deliveryCount, settings);
    line.err = err;
    m.nak(line.retry_in_ms);
    if (outcome.databaseUnavailable) pause.pause();
    return 'retry';
  }

  /**
   * Stores the dead letter; false when it could not be stored and the message is to be nak'ed (it comes back).
   * On the server's last delivery a nak would lose it: storing is retried with the message kept in hand (the
   * caller's working() keeps it) until it is stored or the consumer stops.
   */
  async function storeDeadLetterOrKeep(
    delivery: UpstreamDelivery,
    seen: MessageIdentification,
    settlement: { reason: string; lastDelivery: boolean },
    deliveryCount: number,
    line: ConsumedLogFields,
  ): Promise<boolean> {
    const where = { subject: delivery.subject, stream_seq: delivery.streamSeq, delivery_count: deliveryCount };
    for (let attempt = 1; ; attempt++) {
      try {
        await deadLetter(delivery, seen, settlement.reason, deliveryCount, line);
        return true;
      } catch (storeErr) {
        if (classify(storeErr).databaseUnavailable) pause.pause();
        if (!settlement.lastDelivery) {
          log.error({ err: storeErr, ...where }, 'could not store the dead letter; the message is kept and retried');
          return false;
        }
        if (stopped.signal.aborted) {
          log.error({ err: storeErr, ...where }, "could not store the dead letter on the server's last delivery and stopping: the message is lost");
          return false;
        }
        const retryInMs = retryDelay(attempt, settings);
        log.error({ err: storeErr, ...where, retry_in_ms: retryInMs }, "could not store the dead letter on the server's last delivery; the message is held and storing retried");
        await wait(retryInMs);
      }
    }
  }

  /** A message taken in hand: what settling it needs, from the moment it was taken. */
  interface InHand {
    m: JsMsg;
    begun: bigint;
    delivery: UpstreamDelivery;
    seen: MessageIdentification;
    line: ConsumedLogFields;
    stillWorking: NodeJS.Timeout;
  }

  function takeInHand(m: JsMsg): InHand {
    const delivery: UpstreamDelivery = {
      subject: m.subject,
      headers: headersToRecord(m.headers),
      data: m.data,
      stream: m.info.stream,
      streamSeq: m.info.streamSequence,
    };
    // Every field named up front, in the order of the line (pino leaves out the ones still undefined).
    const line: ConsumedLogFields = {
      subject: m.subject,
      stream_seq: delivery.streamSeq,
      message_id: undefined,
      event_id: undefined,
      course_id: undefined,
      outcome: undefined,
      delivery_count: m.info.deliveryCount,
      duration_ms: undefined,
    };
    // A message may wait in its mailbox behind other work: tell the server we still have it, so ack_wait does not
    // hand it to another instance meanwhile (that would be harmless, the inbox dedups, but wasted).
    const stillWorking = setInterval(() => m.working(), Math.max(500, settings.ackWaitMs / 2));
    return { m, begun: process.hrtime.bigint(), delivery, seen: {}, line, stillWorking };
  }

  /**
   * Settles a message in hand exactly one way once its handling (`handled`, whose transaction has ended when it
   * settles) is known; logs it in one line (consumer-log.ts).
   */
  async function settleHandled(held: InHand, handled: Promise<ProcessOutcome>): Promise<void> {
    const { m, delivery, seen, line } = held;
    try {
      const outcome = await handled;
      processed++;
      if (hooks.beforeAck && !hooks.beforeAck(delivery, outcome)) return;
      m.ack();
      line.outcome = outcome;
    } catch (err) {
      line.outcome = await settleFailed(m, delivery, seen, err, line);
    } finally {
      clearInterval(held.stillWorking);
    }
    line.message_id = seen.messageId ?? delivery.headers['Nats-Msg-Id']?.[0];
    line.event_id = seen.eventId;
    line.course_id = seen.courseId;
    line.duration_ms = millisecondsSince(held.begun);
    log[consumedLogLevel(line.outcome)](line, 'message settled');
  }

  /** Handles one message in its own transaction and settles it. */
  function settle(m: JsMsg): Promise<void> {
    const held = takeInHand(m);
    return settleHandled(held, handle(held.delivery, held.seen));
  }

  /** Handles the messages in one transaction (upstream-batch.ts) and settles each; one promise per message. */
  function settleBatch(ms: readonly JsMsg[]): Promise<void>[] {
    const held = ms.map(takeInHand);
    const outcomes = handleBatch(held.map(({ delivery, seen }) => ({ delivery, seen })));
    return held.map((h, i) => settleHandled(h, outcomes[i]!));
  }

  /** With CONSUMER_BATCH_SIZE > 1, what the pull hands over is gathered into batches (consumer-batcher.ts). */
  const gather =
    settings.batchSize > 1
      ? createBatcher<{ m: JsMsg; settled: (done: Promise<void>) => void }>(settings.batchSize, (batch) => {
          const done = settleBatch(batch.map((item) => item.m));
          batch.forEach((item, i) => item.settled(done[i]!));
        })
      : undefined;
  /** What the pull loop calls for each message: resolves once the message is settled. */
  function settleInTurn(m: JsMsg): Promise<void> {
    if (!gather) return settle(m);
    return new Promise<void>((resolve, reject) => gather({ m, settled: (done) => void done.then(resolve, reject) }));
  }

  return {
    start() {
      pullLoop.start();
    },
    async stop() {
      stopped.abort();
      await pullLoop.stop();
    },
    async replay(letter) {
      const outcome = await handle({
        subject: letter.subject,
        headers: letter.headers,
        data: letter.data,
        stream: letter.stream ?? '',
        streamSeq: letter.streamSeq ?? 0,
      });
      await markDeadLetterReplayed(deps.db, letter.id, outcome);
      return outcome;
    },
    status: () => ({ paused: pause.paused, pulling: pullLoop.pulling, inFlight: pullLoop.inFlight, processed, deadLettered }),
  };
}
