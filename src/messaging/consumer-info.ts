/** The durable consumer as the JetStream server sees it (`$JS.API.CONSUMER.INFO`), for `ops.health` and `ops.status`. */
import { jetstreamManager, type ConsumerInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

/** One CONSUMER.INFO request; rejects when the consumer (or its stream) does not exist or the server does not answer. */
export async function readConsumerInfo(nc: NatsConnection, consumer: { streamName: string; durableName: string }, timeoutMs: number): Promise<ConsumerInfo> {
  const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: timeoutMs });
  return jsm.consumers.info(consumer.streamName, consumer.durableName);
}
