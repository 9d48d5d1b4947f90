/**
 * What the process starts for itself before the app connects, so that `npm start` runs on a fresh machine:
 * the embedded database when DATABASE_URL is unset, a development nats-server when NATS_URL is unset and nothing
 * answers on the default address (config.ts decides which apply; never in production).
 *
 * Returns the config the app runs with (the embedded database's URL filled in) and a `stop()` to call after the
 * app has stopped: the app closes its connections first, then these services go.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { redactUrls } from '../logger.js';
import { ensureDevNatsServer, type DevNatsServer } from './dev-nats-server.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from './embedded-database.js';

export interface LocalServices {
  /** `config` with `databaseUrl` set to the embedded database when it runs. */
  config: Config;
  database?: EmbeddedDatabase;
  nats?: DevNatsServer;
  /** Stops what was started (NATS first, then the database); safe to call twice. */
  stop(): Promise<void>;
}

export async function startLocalServices(config: Config, log: Logger): Promise<LocalServices> {
  let database: EmbeddedDatabase | undefined;
  let nats: DevNatsServer | undefined;
  const stop = async () => {
    await nats?.stop();
    await database?.stop();
  };
  try {
    const embedded = config.local.embeddedDatabase;
    if (embedded) {
      const began = Date.now();
      database = await startEmbeddedDatabase({ dataDir: embedded.dataDir, log });
      log.warn(
        { data_dir: embedded.dataDir, created: database.created, started_ms: Date.now() - began, gateway: redactUrls(database.url) },
        'DATABASE_URL is unset: running on an embedded PostgreSQL (PGlite) in DATA_DIR, for development and one instance only; ' +
          'to use a real server, set DATABASE_URL=postgresql://user@host:5432/dbname',
      );
    }
    const natsServer = config.local.natsServer;
    if (natsServer) nats = await ensureDevNatsServer({ url: config.nats.url, bin: natsServer.bin, storeDir: natsServer.storeDir, log });
  } catch (err) {
    await stop();
    throw err;
  }
  return { config: database ? { ...config, databaseUrl: database.url } : config, database, nats, stop };
}
