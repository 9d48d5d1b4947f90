/**
 * The chaos run's own NATS: one nats-server with JetStream, or a three-node JetStream cluster on loopback (nodes
 * `n1`..`n3`, each with its own store). A node can be killed (SIGKILL: no flush, no goodbye) and started again on
 * the same port and store, as an orchestrator restarts a crashed pod.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tcpReachable } from '../helpers/services.js';

export type Topology = 'single' | 'cluster';

export interface NatsNode {
  name: string;
  url: string;
  running(): boolean;
  kill(): Promise<void>;
  start(): Promise<void>;
}

export interface PrivateNats {
  topology: Topology;
  nodes: NatsNode[];
  /** Every node's URL, for a client that may connect to any of them. */
  urls: string[];
  destroy(): Promise<void>;
}

const bin = process.env.NATS_SERVER_BIN ?? 'nats-server';

function node(name: string, args: string[], port: number): NatsNode {
  let child: ChildProcess | undefined;
  let output = '';
  const url = `nats://127.0.0.1:${port}`;
  const start = async () => {
    output = '';
    const started = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    started.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    const deadline = Date.now() + 15_000;
    while (!(await tcpReachable(url, 200))) {
      if (started.exitCode !== null) throw new Error(`nats-server ${name} exited with ${started.exitCode}: ${output}`);
      if (Date.now() > deadline) throw new Error(`nats-server ${name} did not listen on ${port}: ${output}`);
      await sleep(50);
    }
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  return { name, url, running: () => child !== undefined && child.exitCode === null, kill, start };
}

/** Starts the topology on the given ports (one client port per node; a cluster also needs one route port per node). */
export async function startPrivateNats(topology: Topology, clientPorts: number[], routePorts: number[] = []): Promise<PrivateNats> {
  const dir = mkdtempSync(join(tmpdir(), 'cd-chaos-nats-'));
  const count = topology === 'single' ? 1 : 3;
  const nodes: NatsNode[] = [];
  for (let i = 0; i < count; i++) {
    const name = `n${i + 1}`;
    const port = clientPorts[i]!;
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, name), '-n', name];
    if (topology === 'cluster') {
      const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
      args.push('--cluster_name', 'chaos', '--cluster', `nats://127.0.0.1:${routePorts[i]!}`, '--routes', routes);
    }
    nodes.push(node(name, args, port));
  }
  await Promise.all(nodes.map((n) => n.start()));
  return {
    topology,
    nodes,
    urls: nodes.map((n) => n.url),
    destroy: async () => {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
