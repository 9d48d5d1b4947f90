/**
 * schemas/asyncapi.yaml against the configuration defaults (src/config.ts), as compose.test.ts does for compose.yaml:
 * the queue group of every command binding, the streams, their duplicate window and the durable consumer's
 * settings are what a service started without any environment uses.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

interface JetStreamExtension {
  stream?: string;
  duplicate_window?: string;
  durable_consumer?: string;
  filter_subject?: string;
  max_deliver?: number;
  ack_wait?: string;
  max_ack_pending?: number;
}
interface Owner {
  bindings?: { nats?: { queue?: string } };
  'x-jetstream'?: JetStreamExtension;
  action?: string;
}

const document = parse(readFileSync(resolve(import.meta.dirname, '../../schemas/asyncapi.yaml'), 'utf8')) as {
  channels: Record<string, Owner>;
  operations: Record<string, Owner>;
};
const defaults = loadConfig({});
const owners = [...Object.entries(document.channels), ...Object.entries(document.operations)];
const jetstreamOf = (stream: string) => owners.filter(([, o]) => o['x-jetstream']?.stream === stream);

/** An AsyncAPI duration (`500ms`, `30s`, `10m`, `2h`) in milliseconds. */
function durationMs(text: string | undefined): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text ?? '');
  if (!match) return Number.NaN;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}

t.test('when the command operations are read, then each binds the queue group NATS_QUEUE_GROUP defaults to', async (t) => {
  const receiving = Object.entries(document.operations).filter(([, o]) => o.bindings?.nats);
  t.ok(receiving.length >= 12, `${receiving.length} command operations with a NATS binding`);
  for (const [name, operation] of receiving) t.equal(operation.bindings?.nats?.queue, defaults.nats.queueGroup, name);
});

t.test('when the event stream is described, then its name and duplicate window are the defaults of DISTRIBUTION_STREAM and STREAM_DUPLICATE_WINDOW_MS', async (t) => {
  const described = jetstreamOf(defaults.stream.name);
  t.ok(described.length >= 18, `${described.length} channels and operations on ${defaults.stream.name}`);
  for (const [name, owner] of described) t.equal(durationMs(owner['x-jetstream']?.duplicate_window), defaults.stream.duplicateWindowMs, `${name} duplicate_window`);
});

t.test("when the consumed stream is described, then its durable consumer is the defaults' (name, filter, deliveries, ack wait, ack pending)", async (t) => {
  const described = jetstreamOf(defaults.consumer.streamName);
  t.equal(described.length, 4, 'two channels and two operations');
  for (const [name, owner] of described) t.equal(owner['x-jetstream']?.durable_consumer, defaults.consumer.durableName, `${name} durable_consumer`);
  for (const [name, operation] of described.filter(([, o]) => o.action === 'receive')) {
    t.match(
      operation['x-jetstream'],
      // The durable is created with max_deliver -1: the service's own limit (CONSUMER_MAX_DELIVER) dead-letters first.
      { filter_subject: 'course.>', max_deliver: -1, max_ack_pending: defaults.consumer.maxAckPending },
      name,
    );
    t.equal(durationMs(operation['x-jetstream']?.ack_wait), defaults.consumer.ackWaitMs, `${name} ack_wait`);
  }
});
