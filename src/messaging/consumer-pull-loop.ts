/**
 * The pull side of the upstream consumer: pulls from the durable consumer with `consume()`, hands each message to
 * `settle` with at most `concurrency` in hand, and keeps pulling across failures (a missing stream or consumer is
 * retried less and less often). Intake waits while the pause is on. Settling, and so acking, is the caller's.
 * Each (re)subscription is logged at info, each failed one at error, and hands the durable's config as the server
 * has it to `onSubscribed` (the settlement uses the server's real max_deliver). A stop or an interrupt (a pause)
 * that comes while a subscription is still being made ends the iterator it makes at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumerInfo, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { IntakePause } from './intake-pause.js';

export interface PullLoopOptions {
  streamName: string;
  durableName: string;
  /** Messages buffered by one pull: the consumer's max_ack_pending, at most 256. */
  maxAckPending: number;
  /** Messages in hand at once. */
  concurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export interface PullLoop {
  start(): void;
  /** Ends the current pull (the loop pulls again once the pause allows). */
  interrupt(): void;
  /** Stops pulling, hands back (nak) what was pulled but not taken in hand, and resolves when every message in hand is settled. */
  stop(): Promise<void>;
  readonly inFlight: number;
  /** True while a pull from the durable consumer is open (false while paused, retrying or stopped). */
  readonly pulling: boolean;
}

export function createPullLoop(
  js: JetStreamClient,
  options: PullLoopOptions,
  deps: { settle: (m: JsMsg) => Promise<void>; pause: IntakePause; signal: AbortSignal; log: Logger; onSubscribed?: (info: ConsumerInfo) => void },
): PullLoop {
  const inFlight = new Set<Promise<void>>();
  let messages: ConsumerMessages | undefined;
  /** Counts interrupt() calls: one during a subscription ends the iterator that subscription makes. */
  let interrupts = 0;
  let loop: Promise<void> | undefined;
  let pulling = false;
  const wait = (ms: number) => sleep(ms, undefined, { signal: deps.signal }).catch(() => undefined);

  async function run(): Promise<void> {
    let failures = 0;
    /** A pull ran before: a new one (after a pause or a failure) is logged as "consuming again". */
    let subscribed = false;
    while (!deps.signal.aborted) {
      await deps.pause.waitUntilOpen();
      if (deps.signal.aborted) break;
      const interruptsBefore = interrupts;
      /** This pull is over: stopping, or interrupted (paused) since it began. */
      const ended = () => deps.signal.aborted || interrupts !== interruptsBefore;
      try {
        const consumer = await js.consumers.get(options.streamName, options.durableName);
        deps.onSubscribed?.(await consumer.info(true));
        messages = await consumer.consume({ max_messages: Math.min(options.maxAckPending, 256) });
        if (ended()) {
          // Stopped or paused while subscribing: this iterator ends at once, and what it pulled meanwhile goes back.
          messages.stop();
          for await (const m of messages) m.nak();
          continue;
        }
        deps.log.info({ stream: options.streamName, after_failures: failures }, subscribed ? 'consuming again' : 'consuming');
        subscribed = true;
        failures = 0;
        pulling = true;
        for await (const m of messages) {
          while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
          // Stopping or paused: what was pulled but not taken in hand goes back at once (for another instance, the
          // next start or the end of the pause) instead of being worked through first or waiting out ack_wait.
          if (ended()) {
            m.nak();
            continue;
          }
          const settling: Promise<void> = deps.settle(m).finally(() => inFlight.delete(settling));
          inFlight.add(settling);
        }
        pulling = false;
      } catch (err) {
        pulling = false;
        if (deps.signal.aborted) break;
        // E.g. the stream or the consumer does not exist (yet).
        const delay = Math.min(options.retryBaseMs * 2 ** failures++, options.retryMaxMs);
        deps.log.error({ err, retry_in_ms: delay }, 'consuming failed; retrying');
        await wait(delay);
      }
    }
    await Promise.all(inFlight);
  }

  return {
    start() {
      loop ??= run();
    },
    interrupt() {
      interrupts++;
      messages?.stop();
    },
    async stop() {
      messages?.stop();
      await loop;
      await Promise.all(inFlight);
    },
    get inFlight() {
      return inFlight.size;
    },
    get pulling() {
      return pulling;
    },
  };
}
