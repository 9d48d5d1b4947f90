/**
 * The demo's view of the events stream: every message stored on it after the tap opened, read by sequence (direct
 * reads, so nothing is consumed and no consumer is created; the same on nats-server 2.9 and 2.10+).
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TappedEvent {
  seq: number;
  subject: string;
  /** The envelope as stored (the Charter v1.0 envelope). */
  envelope: { id: string; type: string; payload: Record<string, unknown> } & Record<string, unknown>;
}

export interface EventTap {
  /** Events stored since the last call (or since the tap opened), read up to the stream's last message now. */
  take(): Promise<TappedEvent[]>;
  /**
   * Collects events until `done(collected)` holds, then for `settleMs` more (events that come along), and returns
   * them; throws when `done` does not hold within `timeoutMs`.
   */
  collect(done: (events: TappedEvent[]) => boolean, options: { timeoutMs: number; settleMs: number; what: string }): Promise<TappedEvent[]>;
}

export async function openEventTap(nc: NatsConnection, stream: string): Promise<EventTap> {
  const jsm: JetStreamManager = await jetstreamManager(nc);
  let next = (await jsm.streams.info(stream)).state.last_seq + 1;

  async function take(): Promise<TappedEvent[]> {
    const last = (await jsm.streams.info(stream)).state.last_seq;
    const events: TappedEvent[] = [];
    for (; next <= last; next++) {
      const message = await jsm.streams.getMessage(stream, { seq: next }).catch(() => null);
      if (message) events.push({ seq: message.seq, subject: message.subject, envelope: message.json() });
    }
    return events;
  }

  return {
    take,
    async collect(done, { timeoutMs, settleMs, what }) {
      const collected: TappedEvent[] = [];
      const deadline = Date.now() + timeoutMs;
      while (!done(collected)) {
        if (Date.now() > deadline) throw new Error(`no ${what} on ${stream} within ${timeoutMs} ms (saw: ${collected.map((e) => e.envelope.type).join(', ') || 'nothing'})`);
        await sleep(50);
        collected.push(...(await take()));
      }
      await sleep(settleMs);
      collected.push(...(await take()));
      return collected;
    },
  };
}
