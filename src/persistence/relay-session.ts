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
  /** Calls `onNotify` for every commit that appended outbox rows (in any instance). */
  listen(onNotify: () => void): Promise<void>;
  /** Ends the connection (which releases the lock). */
  close(): Promise<void>;
}

export async function openRelaySession(options: { databaseUrl: string; statementTimeoutMs: number }): Promise<RelaySession> {
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
  return {
    db: client,
    get lost() {
      return lost;
    },
    async tryLead() {
      const result = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [RELAY_LOCK_KEY]);
      return result.rows[0]?.locked === true;
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
