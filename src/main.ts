/**
 * Process entry: load config, create the app (waiting for PostgreSQL and NATS up to STARTUP_TIMEOUT_MS), start
 * it; SIGTERM/SIGINT stop it gracefully within SHUTDOWN_TIMEOUT_MS. Exit codes: 0 after a clean stop (also a stop
 * while still waiting for the dependencies), 1 when the start fails or a stop fails or passes its deadline.
 */
import { createApp, type App } from './app.js';
import { loadConfig } from './config.js';
import { DependencyUnreachableError } from './errors.js';
import { stopWithin } from './lifecycle/shutdown-deadline.js';
import { createLogger } from './logger.js';

const config = loadConfig();
const log = createLogger(config.logLevel, config.logFormat);

process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection (a bug): kept running'));

/** Aborted by the first SIGTERM/SIGINT. */
const stopRequested = new AbortController();
let app: App | undefined;

/** Stops the app within the deadline and exits: `cleanExit` after a clean stop, 1 otherwise. */
async function stopAndExit(running: App, cleanExit: number): Promise<never> {
  const clean = await stopWithin(running, config.lifecycle.shutdownTimeoutMs, log);
  process.exit(clean ? cleanExit : 1);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopRequested.signal.aborted) return;
    log.info({ signal, timeout_ms: config.lifecycle.shutdownTimeoutMs }, 'stopping');
    stopRequested.abort(new Error(`${signal} received`));
    // Without an app yet, the abort ends the wait for the dependencies and the start below exits.
    if (app) void stopAndExit(app, 0);
  });
}

try {
  app = await createApp(config, { log, signal: stopRequested.signal });
} catch (err) {
  if (stopRequested.signal.aborted) {
    log.info('stopped while waiting for the dependencies');
    process.exit(0);
  }
  if (err instanceof DependencyUnreachableError) {
    log.fatal({ err, dependency: err.dependency, waited_ms: err.waitedMs }, `${err.dependency} still unreachable after STARTUP_TIMEOUT_MS; exiting`);
  } else {
    log.fatal({ err }, 'could not create the app; exiting');
  }
  process.exit(1);
}
if (stopRequested.signal.aborted) await stopAndExit(app, 0);
try {
  await app.start();
} catch (err) {
  // A stop requested during the start ends it (provisioning gives up); that stop exits.
  if (!stopRequested.signal.aborted) {
    log.fatal({ err }, 'could not start');
    await stopAndExit(app, 1);
  }
}
