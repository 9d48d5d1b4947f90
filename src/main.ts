/** Process entry: load config, create the app, start it; SIGTERM/SIGINT stop it gracefully. */
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';

const config = loadConfig();
const log = createLogger(config.logLevel, config.logFormat);

process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection (a bug): kept running'));

let app: Awaited<ReturnType<typeof createApp>>;
try {
  app = await createApp(config, { log });
} catch (err) {
  log.fatal({ err }, 'could not connect to PostgreSQL or NATS; exiting (the orchestrator restarts the process)');
  process.exit(1);
}
try {
  await app.start();
} catch (err) {
  log.fatal({ err }, 'could not start');
  await app.stop();
  process.exit(1);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'stopping');
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  });
}
