/**
 * The optional HTTP probes for an orchestrator (OPS_HTTP_PORT), on node's own `http`:
 * - `GET /healthz`: 200 while the process runs (liveness; it checks nothing else, so a database outage never gets
 *   the process restarted);
 * - `GET /readyz`: runs every readiness check at once, each within `checkTimeoutMs`; 200 `{"status":"ready"}` when
 *   all pass, else 503 `{"status":"not_ready","failing":{"<check>":"<reason>"}}` naming each failing check.
 * Anything else is 404 (405 for another method). The checks are the caller's (app.ts): a check passes when it
 * returns or resolves, and fails with the message of what it throws.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { timedProbe } from '../application/timed-probe.js';

/** Passes by returning (or resolving); fails by throwing (or rejecting), the error's message being the reason. */
export type ReadinessCheck = () => unknown;

export interface ProbeServerOptions {
  port: number;
  /** Listen address; default all interfaces (the orchestrator probes the pod's address). */
  host?: string;
  checks: Record<string, ReadinessCheck>;
  /** A check that takes longer fails as timed out. Default 1000 ms. */
  checkTimeoutMs?: number;
  log: Logger;
}

export interface ProbeServer {
  /** The port listened on. */
  readonly port: number;
  /** Stops listening and ends open connections. Safe to call twice. */
  close(): Promise<void>;
}

/** The failing checks by name with their reasons; empty when all pass. */
async function failingChecks(checks: Record<string, ReadinessCheck>, timeoutMs: number): Promise<Record<string, string>> {
  const results = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const));
  return Object.fromEntries(results.filter((entry): entry is readonly [string, string] => entry[1] !== undefined));
}

/** undefined when the check passed, else the reason ("timed out after N ms" included). */
async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string | undefined> {
  const result = await timedProbe(() => Promise.resolve().then(check), timeoutMs);
  return result.ok ? undefined : result.error;
}

function send(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', connection: 'close' });
  res.end(JSON.stringify(body));
}

export async function startProbeServer(options: ProbeServerOptions): Promise<ProbeServer> {
  const timeoutMs = options.checkTimeoutMs ?? 1000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://probe').pathname;
    if (path !== '/healthz' && path !== '/readyz') return send(res, 404, { error: 'not found; probes: /healthz, /readyz' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'GET only' });
    if (path === '/healthz') return send(res, 200, { status: 'alive' });
    const failing = await failingChecks(options.checks, timeoutMs);
    if (Object.keys(failing).length === 0) return send(res, 200, { status: 'ready' });
    send(res, 503, { status: 'not_ready', failing });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.log.error({ err }, 'probe request failed (a bug)');
      if (!res.headersSent) send(res, 500, { error: 'internal' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  options.log.info({ port }, 'probes listening (GET /healthz, /readyz)');
  let closed: Promise<void> | undefined;
  return {
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
