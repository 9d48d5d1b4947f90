/**
 * The faults of a chaos run, planned from the seed and injected at their moments during the workload: every kind at
 * least once (more in longer runs), at seeded offsets that may overlap, so faults also arrive together.
 * - `kill-instance`: SIGKILL of a service process (its supervisor starts it again);
 * - `freeze-instance`: SIGSTOP, then SIGCONT after a few seconds (a frozen relay leader, a stalled consumer);
 * - `kill-nats`: SIGKILL of the nats-server (on a cluster: the node leading one of the two streams), started again
 *   after a moment on the same store;
 * - `crash-postgres`: `pg_ctl stop -m immediate` for a few seconds, then a start with crash recovery.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ledger } from './ledger.js';
import type { PrivateNats } from './private-nats.js';
import type { PrivatePostgres } from './private-postgres.js';
import type { Random } from './seeded-random.js';
import type { Supervisor } from './service-supervisor.js';

export type FaultKind = 'kill-instance' | 'freeze-instance' | 'kill-nats' | 'crash-postgres';

export interface PlannedFault {
  kind: FaultKind;
  atMs: number;
  /** How long the target stays down or frozen. */
  forMs: number;
  /** Which instance, or which stream's leader (on a single server: the server). */
  target: number;
}

const KINDS: readonly FaultKind[] = ['kill-instance', 'freeze-instance', 'kill-nats', 'crash-postgres'];

export function planFaults(random: Random, durationMs: number): PlannedFault[] {
  const extra = Math.floor(durationMs / 20_000);
  const kinds = [...KINDS, ...Array.from({ length: extra }, () => random.pick(KINDS))];
  return kinds
    .map((kind) => ({
      kind,
      atMs: random.int(Math.floor(durationMs * 0.1), Math.floor(durationMs * 0.75)),
      forMs: kind === 'kill-instance' ? 0 : random.int(1500, 4000),
      target: random.int(0, 1),
    }))
    .sort((a, b) => a.atMs - b.atMs);
}

export interface FaultTargets {
  supervisor: Supervisor;
  nats: PrivateNats;
  postgres: PrivatePostgres;
  /** The harness's own connection, to ask which node leads a stream. */
  nc: NatsConnection;
  streams: [string, string];
}

/** The node leading `stream` (cluster), else the only node; a random node when the question finds no answer. */
async function natsTarget(targets: FaultTargets, stream: string): Promise<number> {
  if (targets.nats.nodes.length === 1) return 0;
  try {
    const jsm = await jetstreamManager(targets.nc, { timeout: 2000 });
    const leader = (await jsm.streams.info(stream)).cluster?.leader;
    const index = targets.nats.nodes.findIndex((n) => n.name === leader);
    if (index >= 0) return index;
  } catch {
    // no leader known right now (an election): any node will do
  }
  return Math.floor(Math.random() * targets.nats.nodes.length);
}

async function inject(fault: PlannedFault, targets: FaultTargets, ledger: Ledger): Promise<void> {
  switch (fault.kind) {
    case 'kill-instance': {
      const instance = targets.supervisor.instances[fault.target]!;
      ledger.record({ kind: 'fault', fault: fault.kind, target: instance.name });
      instance.kill();
      return;
    }
    case 'freeze-instance': {
      const instance = targets.supervisor.instances[fault.target]!;
      ledger.record({ kind: 'fault', fault: fault.kind, target: instance.name });
      instance.freeze();
      await sleep(fault.forMs);
      instance.thaw();
      return;
    }
    case 'kill-nats': {
      const node = targets.nats.nodes[await natsTarget(targets, targets.streams[fault.target]!)]!;
      ledger.record({ kind: 'fault', fault: fault.kind, target: `${node.name} (${targets.streams[fault.target]} leader)` });
      await node.kill();
      await sleep(fault.forMs);
      await node.start();
      return;
    }
    case 'crash-postgres': {
      ledger.record({ kind: 'fault', fault: fault.kind, target: 'postgres' });
      await targets.postgres.crash();
      await sleep(fault.forMs);
      await targets.postgres.start();
      return;
    }
    default: {
      const unknown: never = fault.kind;
      throw new Error(`unknown fault ${String(unknown)}`);
    }
  }
}

/**
 * Injects every planned fault at its offset from now; resolves when the last one has ended (all targets back).
 * Faults of one kind run one after another (a server is not crashed while it is still down), different kinds overlap.
 */
export async function injectFaults(plan: PlannedFault[], targets: FaultTargets, ledger: Ledger): Promise<void> {
  const start = Date.now();
  const chains = new Map<FaultKind, Promise<void>>();
  await Promise.all(
    plan.map(async (fault) => {
      await sleep(Math.max(0, fault.atMs - (Date.now() - start)));
      const previous = chains.get(fault.kind) ?? Promise.resolve();
      const next = previous.then(() => inject(fault, targets, ledger));
      chains.set(fault.kind, next);
      await next;
    }),
  );
}
