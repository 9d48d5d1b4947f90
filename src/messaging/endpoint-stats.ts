/**
 * Endpoint figures for `$SRV.STATS` that tell the truth about asynchronous handlers.
 * @nats-io/services measures a handler only until it returns, and counts an error only when it throws
 * synchronously; ours return at once and answer later, so the framework would report `num_errors: 0` and a
 * processing time of microseconds whatever happened. Each request is recorded here when its reply is sent, and the
 * service's STATS reply (and `service.stats()`) reports these figures instead, with ADR-32's meaning:
 * `num_requests`, `num_errors` (every error reply, 4xx and 5xx), `last_error` (`"<status>:<message>"` of the last
 * error reply), `processing_time` (total, nanoseconds) and `average_processing_time` (nanoseconds). Every other
 * field of the framework's figures passes through as it is, `data` (the service's statsHandler) included.
 */
import type { NamedEndpointStats, Service } from '@nats-io/services';

interface Figures {
  num_requests: number;
  num_errors: number;
  last_error?: string;
  processing_time: number;
}

export interface EndpointStats {
  /** A timestamp to pass to `record` when the request arrives. */
  begin(): bigint;
  /** Records one answered request of `endpoint`; `error` when the reply was an error reply. */
  record(endpoint: string, begun: bigint, error?: { status: number; message: string }): void;
}

const emptyFigures = (): Figures => ({ num_requests: 0, num_errors: 0, processing_time: 0 });

/** Starts recording for `service`: from now on its STATS report carries these figures for every endpoint. */
export function trackEndpointStats(service: Service): EndpointStats {
  const figures = new Map<string, Figures>();
  const frameworkStats = service.stats.bind(service);
  const frameworkReset = service.reset.bind(service);

  const report = (endpoint: NamedEndpointStats): NamedEndpointStats => {
    const own = figures.get(endpoint.name) ?? emptyFigures();
    return {
      ...endpoint,
      ...own,
      average_processing_time: own.num_requests === 0 ? 0 : Math.round(own.processing_time / own.num_requests),
    };
  };

  // The framework's STATS handler calls `this.stats()` on the service, so replacing the method on the instance
  // replaces what `$SRV.STATS` answers too.
  service.stats = async () => {
    const stats = await frameworkStats();
    return { ...stats, endpoints: stats.endpoints?.map(report) };
  };
  service.reset = () => {
    figures.clear();
    frameworkReset();
  };

  return {
    begin: () => process.hrtime.bigint(),
    record(endpoint, begun, error) {
      const own = figures.get(endpoint) ?? emptyFigures();
      own.num_requests++;
      own.processing_time += Number(process.hrtime.bigint() - begun);
      if (error) {
        own.num_errors++;
        own.last_error = `${error.status}:${error.message}`;
      }
      figures.set(endpoint, own);
    },
  };
}
