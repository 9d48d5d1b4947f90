/**
 * The relay's dedicated PostgreSQL connection, which is also its claim to be the one active relay.
 *
 * Single-active contract: the active relay holds the session advisory lock RELAY_LOCK_KEY (advisory-locks.ts) on this
 * connection.
 * PostgreSQL releases it when the connection ends (process exit, crash, network loss detected by TCP keepalive),
 * and a standby's next `tryLead()` then wins. A session that lost its connection reports `lost` and must stop
 * publishing at once; a short overlap with the next holder is harmless, because both publish with the same
 * Nats-Msg-Id and per-distribution order is preserved by JetStream's duplicate detection.
 *
 * A holder that is alive to the kernel but does nothing (SIGSTOP, a hung event loop, a VM paused) keeps its
 * connection, and so the lock. Bounded by a heartbeat with a deadline:
 * - the holder runs `heartbeat()` every OUTBOX_LOCK_RETRY_MS, so its backend's `pg_stat_activity.state_change` is
 *   never older than that while it lives;
 * - a standby whose `tryLead()` fails calls `endStaleHolder(staleMs)`: a holder backend idle for more than
 *   OUTBOX_LOCK_STALE_MS is ended (`pg_terminate_backend`), which releases the lock for the standby's next try.
 *   Seeing another session's state and ending its backend takes the same database role (or pg_signal_backend and
 *   pg_read_all_stats, or a superuser): every instance connecting as the same user, as deployed, is enough;
 * - the holder publishes only while its lease holds (`leaseValid()`): less than `staleMs - lockRetryMs` since it
 *   sent its last heartbeat that succeeded. A thawed holder therefore publishes nothing before it notices that its
 *   connection is gone, and then steps down.
 * The server-side TCP keepalive and tcp_user_timeout of the connection are set too, so a holder whose host or
 * network vanished is noticed by PostgreSQL within about a minute rather than the kernel's two hours.
 *
 * The same connection LISTENs on `outbox_event` (see the migration that adds the NOTIFY trigger), so commits in
 * any instance wake the active relay.
 */
import pg from 'pg';
import { RELAY_LOCK_KEY } from './advisory-locks.js';

export const OUTBOX_CHANNEL = 'outbox_event';

export interface RelaySession {
  /** pg.Client's query, for outbox-relay-store.ts. */
  readonly db: pg.Client;
  /** True once the connection failed or ended: the lock is gone with it. */
  readonly lost: boolean;
  /** Takes the advisory lock if nobody holds it; true when this session is now the active relay. */
  tryLead(): Promise<boolean>;
  /** The holder's proof of life: one round trip. Rejects when it fails (the session may be lost). */
  heartbeat(): Promise<void>;
  /** This session took the lock or heartbeated successfully within the lease (see the file comment). */
  leaseValid(): boolean;
  /**
   * Ends the lock holder's backend when it has been idle for more than `staleMs` (another session's only). Returns
   * the ended holder's pid, or null when there is none, it is live, or this role may not see or end it (`denied`).
   */
  endStaleHolder(): Promise<{ pid: number } | { denied: string } | null>;
  /** Calls `onNotify` for every commit that appended outbox rows (in any instance). */
  listen(onNotify: () => void): Promise<void>;
  /** Ends the connection (which releases the lock). */
  close(): Promise<void>;
}

/** Server-side TCP settings of the session (seconds, and ms for tcp_user_timeout; PostgreSQL 12+). */
const TCP_SETTINGS_SQL = `select set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false),
  set_config('tcp_keepalives_count', '6', false), set_config('tcp_user_timeout', '60000', false)`;

/**
 * The holder of RELAY_LOCK_KEY ended when it is idle past the deadline. A bigint advisory key shows in pg_locks as
 * classid = its high 32 bits, objid = its low 32 bits, objsubid = 1. pg_terminate_backend waits up to 5 s for the
 * backend to exit (and with it the lock).
 */
const END_STALE_HOLDER_SQL = `select l.pid, pg_terminate_backend(l.pid, 5000) as ended
   from pg_locks l join pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory' and l.granted and l.objsubid = 1
    and l.database = (select oid from pg_database where datname = current_database())
    and l.classid = ($1::bigint >> 32)::oid and l.objid = ($1::bigint & 4294967295)::oid
    and l.pid <> pg_backend_pid() and a.state like 'idle%' and clock_timestamp() - a.state_change > $2 * interval '1 millisecond'`;

export interface RelaySessionOptions {
  databaseUrl: string;
  statementTimeoutMs: number;
  /** How often the holder heartbeats (OUTBOX_LOCK_RETRY_MS). */
  lockRetryMs: number;
  /** Idle time after which a standby ends the holder (OUTBOX_LOCK_STALE_MS). */
  staleMs: number;
}

export async function openRelaySession(options: RelaySessionOptions): Promise<RelaySession> {
  const client = new pg.Client({
    connectionString: options.databaseUrl,
    application_name: 'course-distribution-relay',
    statement_timeout: options.statementTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  let lost = false;
  // A lost connection is not an exception to throw: the session reports it as lost and the leader reopens it.
  const markLost = () => {
    lost = true;
  };
  client.on('error', markLost);
  client.on('end', markLost);
  await client.connect();
  await client.query(TCP_SETTINGS_SQL);
  /** When the last heartbeat (or lock acquisition) that succeeded was sent: the lease runs from there. */
  let confirmedAt = 0;
  const leaseMs = options.staleMs - options.lockRetryMs;
  return {
    db: client,
    get lost() {
      return lost;
    },
    async tryLead() {
      const sentAt = Date.now();
      const result = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [RELAY_LOCK_KEY]);
      const locked = result.rows[0]?.locked === true;
      if (locked) confirmedAt = sentAt;
      return locked;
    },
    async heartbeat() {
      const sentAt = Date.now();
      await client.query('select 1');
      confirmedAt = Math.max(confirmedAt, sentAt);
    },
    leaseValid() {
      return !lost && Date.now() - confirmedAt < leaseMs;
    },
    async endStaleHolder() {
      try {
        const result = await client.query<{ pid: number; ended: boolean }>(END_STALE_HOLDER_SQL, [RELAY_LOCK_KEY, options.staleMs]);
        const row = result.rows[0];
        return row ? { pid: row.pid } : null;
      } catch (err) {
        // 42501: this role may not end the holder's backend (another role, no pg_signal_backend).
        if ((err as { code?: string }).code === '42501') return { denied: (err as Error).message };
        throw err;
      }
    },
    async listen(onNotify) {
      client.on('notification', (n) => {
        if (n.channel === OUTBOX_CHANNEL) onNotify();
      });
      await client.query(`listen ${OUTBOX_CHANNEL}`);
    },
    async close() {
      lost = true;
      await client.end().catch(() => undefined);
    },
  };
}
