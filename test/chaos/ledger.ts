/**
 * The chaos run's ledger: every request with what came back (a success, an error code, or nothing), and every
 * CourseFactory event published, one JSON line each, appended as it happens. The checks read the in-memory copy;
 * the file is what a failed run leaves for a replay (`npm run chaos -- --seed N`) and a human.
 */
import { createWriteStream } from 'node:fs';

/** `ok`, `<status> <code>` of an error reply, or `none` (timeout, no responders, connection lost). */
export type Outcome = string;

export interface RequestEntry {
  kind: 'request';
  phase: 'workload' | 'retry';
  worker: string;
  tenant: string;
  operation: string;
  body: Record<string, unknown>;
  outcome: Outcome;
  reply?: unknown;
  at: string;
}

export interface CourseEventEntry {
  kind: 'course_event';
  type: string;
  envelopeId: string;
  /** The Nats-Msg-Id header; null when published without one (dedup falls back to the envelope id). */
  msgId: string | null;
  courseId: string;
  poison: boolean;
  /** `stored`, `duplicate` (the stream's own dedup), or `none` (no PubAck after every attempt). */
  ack: 'stored' | 'duplicate' | 'none';
  payload?: unknown;
  at: string;
}

export interface FaultEntry {
  kind: 'fault';
  fault: string;
  target: string;
  at: string;
}

export type LedgerEntry = RequestEntry | CourseEventEntry | FaultEntry;

type WithoutStamp<E> = E extends LedgerEntry ? Omit<E, 'at'> : never;

export interface Ledger {
  readonly path: string;
  record(entry: WithoutStamp<LedgerEntry>): void;
  entries(): readonly LedgerEntry[];
  close(): Promise<void>;
}

export function createLedger(path: string): Ledger {
  const out = createWriteStream(path, { flags: 'w' });
  const kept: LedgerEntry[] = [];
  return {
    path,
    record(entry) {
      const stamped = { ...entry, at: new Date().toISOString() };
      kept.push(stamped);
      out.write(`${JSON.stringify(stamped)}\n`);
    },
    entries: () => kept,
    close: () => new Promise((done) => out.end(done)),
  };
}
