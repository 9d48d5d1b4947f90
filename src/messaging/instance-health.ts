/**
 * Gathers `ops.health` for this instance: every probe runs at once, each bounded by HEALTH_CHECK_TIMEOUT_MS, and
 * application/health-policy.ts judges what they saw. Never rejects: a failing dependency is a check's state.
 */
import {
  consumerCheck,
  countersCheck,
  databaseCheck,
  judgeHealth,
  migrationsCheck,
  natsCheck,
  relayCheck,
  type HealthCheck,
  type HealthStatus,
} from '../application/health-policy.js';
import { timedProbe } from '../application/timed-probe.js';
import { databaseRoundTrip, findRelayLockHolder, readMigrationState } from '../persistence/ops-queries.js';
import { readConsumerInfo } from './consumer-info.js';
import { relayRole, type InstanceProbes } from './instance-probes.js';

/** The `ops.health` answer of one instance. */
export interface InstanceHealth {
  status: HealthStatus;
  instance_id: string;
  /** `<check>: <why>` for every check that is down or degraded; empty when ok. */
  reasons: string[];
  checks: Record<'nats' | 'database' | 'migrations' | 'consumer' | 'relay' | 'counters', HealthCheck>;
}

export async function gatherHealth(probes: InstanceProbes, instanceId: string): Promise<InstanceHealth> {
  const { nc, orm, db, consumer, checkTimeoutMs } = probes;
  const [rtt, roundTrip, migrations, holder, consumerInfo] = await Promise.all([
    timedProbe(() => nc.rtt(), checkTimeoutMs),
    timedProbe(() => databaseRoundTrip(db), checkTimeoutMs),
    timedProbe(() => readMigrationState(orm), checkTimeoutMs),
    timedProbe(() => findRelayLockHolder(db), checkTimeoutMs),
    consumer ? timedProbe(() => readConsumerInfo(nc, probes.consumerSettings, checkTimeoutMs), checkTimeoutMs) : undefined,
  ]);
  const consumerStatus = consumer?.status();
  const checks: InstanceHealth['checks'] = {
    nats: natsCheck(rtt, nc.getServer()),
    database: databaseCheck(roundTrip),
    migrations: migrationsCheck(migrations),
    consumer: consumerCheck(
      consumerStatus && consumerInfo
        ? { enabled: true, durable: probes.consumerSettings.durableName, paused: consumerStatus.paused, pulling: consumerStatus.pulling, info: consumerInfo }
        : { enabled: false },
    ),
    relay: relayCheck(relayRole(probes.relay), holder),
    counters: countersCheck(Object.fromEntries(Object.entries(probes.counters).map(([kind, c]) => [kind, c.status()]))),
  };
  return { ...judgeHealth(checks), instance_id: instanceId, checks };
}
