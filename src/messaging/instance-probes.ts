/**
 * What `ops.health` and `ops.status` look at in one instance, passed in from the composition root (app.ts).
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Sql } from '../persistence/database.js';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Counter } from '../application/counters.js';
import type { Mailbox } from '../application/mailbox.js';
import type { RelayRole } from '../application/health-policy.js';
import type { ConsumerSettings } from '../config.js';
import type { OutboxRelay } from './outbox-relay.js';
import type { UpstreamConsumer } from './upstream-consumer.js';

export interface InstanceProbes {
  nc: NatsConnection;
  /** The migrator's state. */
  orm: MikroORM;
  /** Short read-only statements on the pool. */
  db: Sql;
  /** Undefined when RELAY_ENABLED=false here. */
  relay?: OutboxRelay;
  /** Undefined when CONSUMER_ENABLED=false here. */
  consumer?: UpstreamConsumer;
  consumerSettings: Pick<ConsumerSettings, 'streamName' | 'durableName'>;
  counters: Record<string, Counter>;
  mailbox: Mailbox;
  /** Each probe's limit (HEALTH_CHECK_TIMEOUT_MS). */
  checkTimeoutMs: number;
}

/** This instance's part in publishing the outbox. */
export function relayRole(relay: OutboxRelay | undefined): RelayRole {
  return relay ? (relay.active ? 'active' : 'standby') : 'disabled';
}
