/**
 * The per-instance operator endpoints `ops.health` and `ops.status` (README, "Operator commands").
 *
 * Every instance must answer, so each has two subjects:
 * - `[prefix.]course_distribution.ops.<op>`: scatter-gather, like `$SRV.PING`: every instance answers one
 *   request (collect the replies for a while, e.g. `nats req --replies 0 --timeout 2s`; a plain request gets
 *   the first). @nats-io/services cannot take one endpoint out of the service's queue group (an empty `queue`
 *   falls back to the service's), so each instance puts these endpoints in a queue group of its own,
 *   `<NATS_QUEUE_GROUP>_<instance id>`: a group with one member delivers every message to it;
 * - `[prefix.]course_distribution.ops.<op>.<instance id>`: that one instance (ids from any answer or `$SRV.PING`).
 * Both carry `instance_id` in the answer. The status is also the `data` of the `ops_status` endpoint in
 * `$SRV.STATS` (statsData): gathered once per STATS request, not once per endpoint.
 */
import type { Endpoint, Service } from '@nats-io/services';
import { gatherHealth } from './instance-health.js';
import type { InstanceProbes } from './instance-probes.js';
import { gatherStatus, type InstanceIdentity } from './instance-status.js';
import { addOpsEndpoint, parseBody, type OpsEndpointsOptions } from './ops-endpoints.js';
import { OPS_TOKEN, SERVICE_NAME, withPrefix } from './subjects.js';

export interface InstanceOpsOptions extends Pick<OpsEndpointsOptions, 'subjectPrefix' | 'log' | 'endpointStats' | 'replies'> {
  probes: InstanceProbes;
  version: string;
  startedAt: Date;
  /** The service's queue group (NATS_QUEUE_GROUP); the broadcast endpoints use `<it>_<instance id>`. */
  queueGroup: string;
}

export interface InstanceOps {
  /** The service's `statsHandler`: this instance's status for the `ops_status` endpoint, null for the others. */
  statsData(endpoint: Endpoint): Promise<unknown>;
}

export function addInstanceOpsEndpoints(service: Service, options: InstanceOpsOptions): InstanceOps {
  const instanceId = service.info().id;
  const identity: InstanceIdentity = { instanceId, version: options.version, startedAt: options.startedAt };
  const answers: Record<'health' | 'status', () => Promise<unknown>> = {
    health: () => gatherHealth(options.probes, instanceId),
    status: () => gatherStatus(options.probes, identity),
  };
  for (const [op, answer] of Object.entries(answers)) {
    const handler = async (msg: Parameters<typeof parseBody>[0]) => {
      parseBody(msg, []);
      return answer();
    };
    addOpsEndpoint(service, options, op, handler, { queue: `${options.queueGroup}_${instanceId}` });
    addOpsEndpoint(service, options, op, handler, { endpointName: `ops_${op}_instance`, subjectTail: `${op}.${instanceId}` });
  }
  const statusSubject = withPrefix(options.subjectPrefix, `${SERVICE_NAME}.${OPS_TOKEN}.status`);
  return {
    statsData: (endpoint) => (endpoint.subject === statusSubject ? answers.status() : Promise.resolve(null)),
  };
}
