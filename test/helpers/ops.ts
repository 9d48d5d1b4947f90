/** Operator requests in tests: one answer (`opsRequest`), or every instance's (`opsGather`, scatter-gather). */
import type { NatsConnection } from '@nats-io/nats-core';
import { OPS_TOKEN, SERVICE_NAME, withPrefix } from '../../src/messaging/subjects.js';

/** `[prefix.]course_distribution.ops.<tail>`, e.g. `health` or `health.<instance id>`. */
export const opsSubject = (prefix: string, tail: string) => withPrefix(prefix, `${SERVICE_NAME}.${OPS_TOKEN}.${tail}`);

export async function opsRequest<T = any>(nc: NatsConnection, prefix: string, tail: string, body: unknown = {}): Promise<{ status: number; body: T }> {
  const msg = await nc.request(opsSubject(prefix, tail), JSON.stringify(body), { timeout: 10_000 });
  return { status: Number(msg.headers?.get('Nats-Service-Error-Code') ?? 200), body: msg.json<T>() };
}

/** Every answer that arrives within `waitMs` of one request. */
export async function opsGather<T = any>(nc: NatsConnection, prefix: string, tail: string, waitMs = 1500): Promise<T[]> {
  const answers: T[] = [];
  for await (const msg of await nc.requestMany(opsSubject(prefix, tail), '{}', { strategy: 'timer', maxWait: waitMs })) answers.push(msg.json<T>());
  return answers;
}
