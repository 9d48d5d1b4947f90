/** CourseFactory's side in tests: publishes course.* events in the Charter envelope onto the test's COURSE stream. */
import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { withPrefix } from '../../src/messaging/subjects.js';

export interface CourseEventOptions {
  /** Envelope id; also the Nats-Msg-Id unless `msgId` says otherwise (null = no header). */
  id?: string;
  msgId?: string | null;
  /** A trailing subject token, e.g. the course id. */
  token?: string;
  correlationId?: string;
  /** Raw bytes instead of the JSON envelope (poison messages). */
  raw?: string | Uint8Array;
}

export function generationCompleted(courseId: string, overrides: Record<string, unknown> = {}) {
  return {
    course_id: courseId,
    tenant_id: 'brain_prod',
    title: 'Alternativen zu Banken & Sparkassen',
    description: 'Ein praxisnaher Grundlagenkurs über Neobanken, FinTechs und Krypto-Wallets für Privatpersonen.',
    language: 'de',
    target_audiences: ['private_individuals'],
    total_lessons: 12,
    completed_at: '2025-12-28T09:00:00Z',
    ...overrides,
  };
}

export function deployedStaging(courseId: string, deployedAt = '2025-12-28T09:30:00Z', url = `https://staging.brain.falklabs.de/courses/${courseId}`) {
  return { course_id: courseId, staging_url: url, deployed_at: deployedAt };
}

export function courseEnvelope(type: string, payload: object, options: CourseEventOptions = {}) {
  return {
    id: options.id ?? `evt_cf_${randomUUID()}`,
    type,
    timestamp: new Date().toISOString(),
    payload,
    meta: {
      schema_version: '1.0',
      producer: 'course_factory',
      source_module: 'course_factory',
      tenant_id: 'brain_prod',
      correlation_id: options.correlationId ?? `req_cf_${randomUUID()}`,
      causation_id: null,
    },
    target: null,
  };
}

/** Publishes one event and returns its envelope id and stream sequence. */
export async function publishCourseEvent(
  nc: NatsConnection,
  subjectPrefix: string,
  type: string,
  payload: object,
  options: CourseEventOptions = {},
): Promise<{ id: string; seq: number; duplicate: boolean }> {
  const envelope = courseEnvelope(type, payload, options);
  const h = headers();
  h.set('Content-Type', 'application/json');
  const msgId = options.msgId === undefined ? envelope.id : options.msgId;
  const subject = withPrefix(subjectPrefix, options.token ? `${type}.${options.token}` : type);
  const ack = await jetstream(nc).publish(subject, options.raw ?? JSON.stringify(envelope), { headers: h, ...(msgId !== null && { msgID: msgId }) });
  return { id: envelope.id, seq: ack.seq, duplicate: ack.duplicate };
}
