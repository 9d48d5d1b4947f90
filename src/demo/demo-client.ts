/**
 * The demo's NATS side, as any client of the service would do it: requests to the command subjects, CourseFactory's
 * publishes onto COURSE, and the durable consumer's progress (consumer info) to know when an event was handled.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config.js';
import { commandSubject, withPrefix } from '../messaging/subjects.js';
import type { DemoClient } from './scenario.js';

export function createDemoClient(nc: NatsConnection, config: Pick<Config, 'nats' | 'consumer'>, tenant: string): DemoClient {
  const prefix = config.nats.subjectPrefix;
  return {
    async request(operation, body) {
      const subject = commandSubject(prefix, tenant, operation);
      const reply = await nc.request(subject, JSON.stringify(body), { timeout: 15_000 });
      const code = reply.headers?.get('Nats-Service-Error-Code');
      return { subject, status: code ? Number(code) : 200, body: reply.json<unknown>() };
    },
    async publishCourseEvent(type, envelope, msgId) {
      const subject = withPrefix(prefix, `${type}.${String(envelope.payload.course_id)}`);
      const h = headers();
      h.set('Content-Type', 'application/json');
      const ack = await jetstream(nc).publish(subject, JSON.stringify(envelope), { headers: h, ...(msgId !== null && { msgID: msgId }) });
      return { subject, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    },
    async consumed(seq, timeoutMs) {
      const jsm = await jetstreamManager(nc);
      const deadline = Date.now() + timeoutMs;
      while ((await jsm.consumers.info(config.consumer.streamName, config.consumer.durableName)).ack_floor.stream_seq < seq) {
        if (Date.now() > deadline) throw new Error(`the service did not acknowledge COURSE message ${seq} within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
  };
}

/** True when an instance of the service answers `ops.health` (any reply, healthy or not) within `timeoutMs`. */
export async function serviceAnswers(nc: NatsConnection, subjectPrefix: string, timeoutMs = 1500): Promise<boolean> {
  try {
    await nc.request(withPrefix(subjectPrefix, 'course_distribution.ops.health'), '{}', { timeout: timeoutMs });
    return true;
  } catch {
    return false;
  }
}
