/**
 * Process entry: load config, start what development needs when DATABASE_URL / NATS_URL are unset (the embedded
 * database, a nats-server: src/embedded/), create the app (waiting for PostgreSQL and NATS up to
 * STARTUP_TIMEOUT_MS), start it; SIGTERM/SIGINT stop it gracefully within SHUTDOWN_TIMEOUT_MS, and then what was
 * started for it. Exit codes: 0 after a clean stop (also a stop while still waiting for the dependencies), 1 when
 * the configuration is invalid, the start fails, or a stop fails or passes its deadline.
 */
import { createApp, type App } from './app.js';
import { loadConfigOrExit, type Config } from './config.js';
import { EmbeddedDatabaseError } from './embedded/embedded-database.js';
import { NatsUnavailableError } from './embedded/dev-nats-server.js';
import { startLocalServices, type LocalServices } from './embedded/local-services.js';
import { DependencyUnreachableError } from './errors.js';
import { stopWithin } from './lifecycle/shutdown-deadline.js';
import { createLogger } from './logger.js';

const config: Config = loadConfigOrExit();
const log = createLogger(config.logLevel, config.logFormat);

process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection (a bug): kept running'));

/** Aborted by the first SIGTERM/SIGINT. */
const stopRequested = new AbortController();
let app: App | undefined;
let local: LocalServices | undefined;

/** Stops the app within the deadline, then what was started for it, and exits: `cleanExit` after a clean stop, 1 otherwise. */
async function stopAndExit(running: App, cleanExit: number): Promise<never> {
  const clean = await stopWithin(running, config.lifecycle.shutdownTimeoutMs, log);
  await stopLocal();
  process.exit(clean ? cleanExit : 1);
}

async function stopLocal(): Promise<void> {
  await local?.stop().catch((err: unknown) => log.error({ err }, 'stopping the embedded database or the development nats-server failed'));
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
  local = await startLocalServices(config, log);
} catch (err) {
  if (err instanceof NatsUnavailableError || err instanceof EmbeddedDatabaseError) {
    // One paragraph for the person at the terminal, and the same as a log line.
    process.stderr.write(`\n${err.message}\n\n`);
    log.fatal({ err: { type: err.name } }, err.message);
  } else {
    log.fatal({ err }, 'could not start the embedded database or the development nats-server; exiting');
  }
  process.exit(1);
}
if (stopRequested.signal.aborted) {
  await stopLocal();
  process.exit(0);
}

try {
  app = await createApp(local.config, { log, signal: stopRequested.signal });
} catch (err) {
  await stopLocal();
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
