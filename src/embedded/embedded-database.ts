/**
 * The development database when DATABASE_URL is unset: PostgreSQL compiled to WebAssembly (PGlite), in this process,
 * its files in one directory (DATA_DIR/pglite), reached over a loopback port (pglite-gateway.ts) so that the
 * service's code runs unchanged on it, migrations included.
 *
 * Contract
 * - One process per directory: a lock file (`<dir>.lock`, holding the pid) is taken before PGlite opens the files,
 *   and a second process is refused with a message naming the holder. A lock left by a process that died is taken
 *   over.
 * - Single instance only: PGlite is one session (see the gateway), so the service's advisory locks (migrations,
 *   relay) exclude nothing; that is fine for one process and wrong for several, which need a real server.
 * - `@electric-sql/pglite` is a devDependency, loaded only here: a production install (`npm ci --omit=dev`) has no
 *   embedded database, and production refuses to start without DATABASE_URL anyway (config.ts).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startPgliteGateway } from './pglite-gateway.js';

export interface EmbeddedDatabase {
  /** The gateway's connection URL. */
  readonly url: string;
  readonly dataDir: string;
  /** True when this start created the database files (the slow first start). */
  readonly created: boolean;
  /** Closes the gateway (rolling back open transactions), then PGlite (which flushes its files), then the lock. */
  stop(): Promise<void>;
}

/** A start refused before anything was opened (another process holds the directory, PGlite not installed). */
export class EmbeddedDatabaseError extends Error {
  override name = 'EmbeddedDatabaseError';
}

/** Takes `<dir>.lock` for this process; throws when a live process holds it. Returns its release. */
function lockDirectory(dir: string): () => void {
  const path = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new EmbeddedDatabaseError(
          `The embedded database in ${dir} is in use by process ${holder}: one process per directory. Stop it, give this one another DATA_DIR, or set DATABASE_URL to a PostgreSQL server (needed for several instances).`,
        );
      }
      rmSync(path, { force: true }); // left by a process that is gone
    }
  }
  throw new EmbeddedDatabaseError(`Could not take the lock file ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function loadPglite(): Promise<typeof import('@electric-sql/pglite')> {
  try {
    return await import('@electric-sql/pglite');
  } catch (err) {
    throw new EmbeddedDatabaseError(
      'DATABASE_URL is unset, and the embedded database (@electric-sql/pglite, a devDependency) is not installed here (npm ci --omit=dev?): set DATABASE_URL, or install with `npm ci`.',
      { cause: err },
    );
  }
}

export async function startEmbeddedDatabase(options: { dataDir: string; log: Logger }): Promise<EmbeddedDatabase> {
  const { dataDir, log } = options;
  mkdirSync(dataDir, { recursive: true });
  const unlock = lockDirectory(dataDir);
  try {
    const created = !existsSync(join(dataDir, 'PG_VERSION'));
    const { PGlite } = await loadPglite();
    const db = await PGlite.create({ dataDir });
    const gateway = await startPgliteGateway(db, { log }).catch(async (err: unknown) => {
      await db.close();
      throw err;
    });
    let stopped: Promise<void> | undefined;
    return {
      url: gateway.url,
      dataDir,
      created,
      stop() {
        stopped ??= (async () => {
          try {
            await gateway.close();
            await db.close();
          } finally {
            unlock();
          }
        })();
        return stopped;
      },
    };
  } catch (err) {
    unlock();
    throw err;
  }
}
