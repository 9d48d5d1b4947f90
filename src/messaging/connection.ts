import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Config } from '../config.js';

/**
 * Connects to NATS and keeps reconnecting forever: the client's default (10 attempts x 2 s) closes the
 * connection for good after about 20 s of outage. Connection state changes are logged.
 */
export async function connectNats(config: Config['nats'], log: Logger, name = 'course-distribution'): Promise<NatsConnection> {
  const nc = await connect({
    // NATS_URL may list several servers, comma-separated; the client takes them as a list.
    servers: config.url
      .split(',')
      .map((server) => server.trim())
      .filter(Boolean),
    name,
    user: config.user,
    pass: config.password,
    inboxPrefix: config.inboxPrefix,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    // The client would otherwise make an Error (with its stack) up front for every request and JetStream publish,
    // for an async stack trace should it fail: measured at a tenth of the relay's CPU. Our failures are classified
    // by their class, never by their stack.
    noAsyncTraces: true,
  });
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'ping') continue;
      log.info({ nats_status: status.type, data: 'data' in status ? status.data : undefined }, 'nats connection status');
    }
  })();
  return nc;
}
