/**
 * Gathers `ops.status` (and the `data` of the `ops_status` endpoint in `$SRV.STATS`) for this instance. Each
 * section is read on its own, bounded by HEALTH_CHECK_TIMEOUT_MS; a section that cannot be read is null and
 * `unavailable` says why, so an outage of one dependency still shows every other figure. Never rejects.
 *
 * Outbox and dead-letter figures are the database's, the same from every instance; the consumer's are the
 * server's (shared by all instances pulling from the durable); relay counters, mailbox and counter queues are this
 * process's, since it started.
 */
import { timedProbe, type ProbeResult } from '../application/timed-probe.js';
import { countOpenDeadLetters } from '../persistence/dead-letters.js';
import { readOutboxBacklog } from '../persistence/ops-queries.js';
import { countParked } from '../persistence/parked-outbox.js';
import type { Backlog } from '../persistence/outbox-relay-store.js';
import { readConsumerInfo } from './consumer-info.js';
import { relayRole, type InstanceProbes } from './instance-probes.js';

export interface InstanceIdentity {
  instanceId: string;
  version: string;
  startedAt: Date;
}

/** The `ops.status` answer of one instance (README, "Operator commands", names each field). */
export interface InstanceStatus {
  instance_id: string;
  version: string;
  started_at: string;
  uptime_ms: number;
  outbox: {
    unpublished: number;
    oldest_unpublished_age_ms: number | null;
    /** Rows parked after OUTBOX_MAX_ATTEMPTS refusals (counted in `unpublished` too). */
    parked: number;
    relay: 'active' | 'standby' | 'disabled';
    last_published_at: string | null;
    published_total: number;
    publish_failures_total: number;
    last_error: string | null;
  } | null;
  consumer: { enabled: false } | { enabled: true; paused: boolean; pulling: boolean; num_pending: number; num_ack_pending: number; num_redelivered: number } | null;
  dead_letters: { open: number } | null;
  mailbox: { pending: number };
  counters: Record<string, { queued: number; flushing: number }>;
  /** Section name -> why it is null. */
  unavailable: Record<string, string>;
}

/** The relay's own backlog figure when it has one (its session), else the pool's: one count per request either way. */
async function outboxFigures(probes: InstanceProbes): Promise<NonNullable<InstanceStatus['outbox']>> {
  const [relay, parked] = await Promise.all([probes.relay?.status(), countParked(probes.db)]);
  const backlog: Backlog =
    relay && relay.unpublished !== null ? { unpublished: relay.unpublished, oldestAgeMs: relay.oldest_unpublished_age_ms } : await readOutboxBacklog(probes.db);
  return {
    unpublished: backlog.unpublished,
    oldest_unpublished_age_ms: backlog.oldestAgeMs,
    parked,
    relay: relayRole(probes.relay),
    last_published_at: relay?.last_published_at ?? null,
    published_total: relay?.published_total ?? 0,
    publish_failures_total: relay?.failed_publishes_total ?? 0,
    last_error: relay?.last_error ?? null,
  };
}

async function consumerFigures(probes: InstanceProbes): Promise<NonNullable<InstanceStatus['consumer']>> {
  if (!probes.consumer) return { enabled: false };
  const { paused, pulling } = probes.consumer.status();
  const info = await readConsumerInfo(probes.nc, probes.consumerSettings, probes.checkTimeoutMs);
  return { enabled: true, paused, pulling, num_pending: info.num_pending, num_ack_pending: info.num_ack_pending, num_redelivered: info.num_redelivered };
}

export async function gatherStatus(probes: InstanceProbes, identity: InstanceIdentity): Promise<InstanceStatus> {
  const bounded = <T>(work: () => Promise<T>) => timedProbe(work, probes.checkTimeoutMs);
  const [outbox, consumer, deadLetters] = await Promise.all([
    bounded(() => outboxFigures(probes)),
    bounded(() => consumerFigures(probes)),
    bounded(async () => ({ open: await countOpenDeadLetters(probes.db) })),
  ]);
  const unavailable: Record<string, string> = {};
  const value = <T>(section: string, probe: ProbeResult<T>): T | null => {
    if (probe.ok) return probe.value;
    unavailable[section] = probe.error;
    return null;
  };
  return {
    instance_id: identity.instanceId,
    version: identity.version,
    started_at: identity.startedAt.toISOString(),
    uptime_ms: Date.now() - identity.startedAt.getTime(),
    outbox: value('outbox', outbox),
    consumer: value('consumer', consumer),
    dead_letters: value('dead_letters', deadLetters),
    mailbox: { pending: probes.mailbox.pending },
    counters: Object.fromEntries(Object.entries(probes.counters).map(([kind, c]) => [kind, { queued: c.status().queued, flushing: c.status().flushing }])),
    unavailable,
  };
}
