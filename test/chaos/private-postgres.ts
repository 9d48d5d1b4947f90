/**
 * A PostgreSQL server of the chaos run's own: `initdb` into a temporary directory, `pg_ctl start` on a free port,
 * and `pg_ctl stop -m immediate` (no checkpoint, no goodbye to clients: what a crash looks like to the service)
 * followed by a start that runs crash recovery. Uses the installed server's binaries (`pg_config --bindir`, else
 * the newest `/usr/lib/postgresql/<n>/bin`). As root (CI), the server runs as the `postgres` user, as initdb
 * refuses root.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivatePostgres {
  url: string;
  port: number;
  /** Crash stop: `pg_ctl stop -m immediate`. */
  crash(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server (fast) and removes its data directory. */
  destroy(): void;
}

function binDir(): string {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (fromConfig.status === 0 && existsSync(join(fromConfig.stdout.trim(), 'initdb'))) return fromConfig.stdout.trim();
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) if (existsSync(join(root, version, 'bin', 'initdb'))) return join(root, version, 'bin');
  throw new Error('no PostgreSQL server binaries (initdb, pg_ctl) found: install PostgreSQL (Debian: apt-get install postgresql)');
}

export async function startPrivatePostgres(port: number): Promise<PrivatePostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'cd-chaos-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const command = (tool: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args]);
  // Asynchronous: the workload goes on while the server stops or recovers.
  const run = async (tool: string, args: string[]) => {
    try {
      await promisify(execFile)(...command(tool, args), { cwd: dir });
    } catch (err) {
      const failed = err as { code?: number; stderr?: string; stdout?: string };
      throw new Error(`${tool} ${args.join(' ')} failed (${failed.code}): ${failed.stderr ?? ''}${failed.stdout ?? ''}`);
    }
  };
  // fsync stays on: the run is about what survives a crash of the server.
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-instructions', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=64MB`;
  const start = () => run('pg_ctl', ['start', '-D', data, '-w', '-t', '60', '-l', join(dir, 'server.log'), '-o', options]);
  await start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    crash: () => run('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']),
    start,
    destroy: () => {
      spawnSync(...command('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']), { cwd: dir });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
