/**
 * The demo's story, step by step: CourseFactory (a course generated, deployed to staging, the same deployment
 * again), then a caller (publish, views and clicks, a micro-niche variant, a version bump), ending with the
 * distribution as stored. Each step records its request, the reply and the events that appeared on the events
 * stream; a step whose events do not appear, or whose reply is an error, fails the demo.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { EventTap, TappedEvent } from './event-tap.js';

/** What the demo does on NATS (demo-client.ts). */
export interface DemoClient {
  /** A request `[prefix.]course_distribution.<tenant>.<operation>`; status 200 or the service error code. */
  request(operation: string, body: object): Promise<{ subject: string; status: number; body: unknown }>;
  /** Publishes a CourseFactory envelope onto COURSE (with `Nats-Msg-Id` = its id unless `msgId` is null). */
  publishCourseEvent(type: string, envelope: CourseEnvelope, msgId: string | null): Promise<{ subject: string; stream: string; seq: number; duplicate: boolean }>;
  /** Resolves once the service's durable consumer has acknowledged the COURSE message `seq`. */
  consumed(seq: number, timeoutMs: number): Promise<void>;
}

export interface CourseEnvelope {
  id: string;
  type: string;
  timestamp: string;
  payload: Record<string, unknown>;
  meta: Record<string, unknown>;
  target: null;
}

export type Actor = 'CourseFactory' | 'caller';

export interface StepRecord {
  actor: Actor;
  title: string;
  request: { subject: string; body: unknown; times?: number };
  reply: unknown;
  events: { type: string; subject: string; payload: Record<string, unknown> }[];
  note?: string;
}

export interface DemoResult {
  tenant: string;
  courseId: string;
  distributionId: string;
  steps: StepRecord[];
  /** The distribution as stored at the end (the `get` reply). */
  stored: Record<string, unknown>;
}

const TENANT = 'brain_prod';
const EVENT_TIMEOUT_MS = 15_000;
const SETTLE_MS = 300;

function courseEnvelope(type: string, payload: Record<string, unknown>): CourseEnvelope {
  return {
    id: `evt_cf_${randomUUID()}`,
    type,
    timestamp: new Date().toISOString(),
    payload,
    meta: { schema_version: '1.0', producer: 'course_factory', source_module: 'course_factory', tenant_id: TENANT, correlation_id: `req_demo_${randomUUID()}`, causation_id: null },
    target: null,
  };
}

const eventsOf = (events: TappedEvent[]) => events.map((e) => ({ type: e.envelope.type, subject: e.subject, payload: e.envelope.payload }));
const has =
  (type: string, where: (payload: Record<string, unknown>) => boolean = () => true) =>
  (events: TappedEvent[]) =>
    events.some((e) => e.envelope.type === type && where(e.envelope.payload));

export async function playScenario(client: DemoClient, tap: EventTap): Promise<DemoResult> {
  const steps: StepRecord[] = [];
  // A course of its own per run: the demo can run again on the same database.
  const courseId = `course_demo_${randomBytes(3).toString('hex')}`;

  async function call(title: string, operation: string, body: object, expect: (events: TappedEvent[]) => boolean, what: string, times = 1) {
    const replies = await Promise.all(Array.from({ length: times }, () => client.request(operation, body)));
    const failed = replies.find((r) => r.status !== 200);
    if (failed) throw new Error(`${operation} answered ${failed.status}: ${JSON.stringify(failed.body)}`);
    const events = await tap.collect(expect, { timeoutMs: EVENT_TIMEOUT_MS, settleMs: SETTLE_MS, what });
    const last = replies.at(-1)!;
    steps.push({ actor: 'caller', title, request: { subject: last.subject, body, ...(times > 1 && { times }) }, reply: last.body, events: eventsOf(events) });
    return last.body as Record<string, unknown>;
  }

  async function publish(title: string, envelope: CourseEnvelope, msgId: string | null, expect: ((events: TappedEvent[]) => boolean) | 'nothing', what: string, note?: string) {
    const ack = await client.publishCourseEvent(envelope.type, envelope, msgId);
    let events: TappedEvent[];
    if (expect === 'nothing') {
      await client.consumed(ack.seq, EVENT_TIMEOUT_MS);
      events = await tap.collect(() => true, { timeoutMs: EVENT_TIMEOUT_MS, settleMs: 4 * SETTLE_MS, what });
      if (events.length > 0) throw new Error(`${title}: expected no events, saw ${events.map((e) => e.envelope.type).join(', ')}`);
    } else {
      events = await tap.collect(expect, { timeoutMs: EVENT_TIMEOUT_MS, settleMs: SETTLE_MS, what });
    }
    steps.push({
      actor: 'CourseFactory',
      title,
      request: { subject: ack.subject, body: envelope },
      reply: { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate },
      events: eventsOf(events),
      note,
    });
    return events;
  }

  const generated = courseEnvelope('course.generation.completed', {
    course_id: courseId,
    tenant_id: TENANT,
    title: 'Alternativen zu Banken & Sparkassen',
    description: 'Ein praxisnaher Grundlagenkurs über Neobanken, FinTechs und Krypto-Wallets für Privatpersonen.',
    language: 'de',
    target_audiences: ['private_individuals'],
    total_lessons: 12,
    completed_at: new Date().toISOString(),
  });
  const created = await publish(
    'a course is generated',
    generated,
    generated.id,
    has('distribution.created', (p) => p.course_id === courseId),
    'distribution.created',
  );
  const distributionId = String(created.find((e) => e.envelope.type === 'distribution.created')!.envelope.payload.distribution_id);

  const deployed = courseEnvelope('course.deployed.staging', {
    course_id: courseId,
    staging_url: `https://staging.example.org/courses/${courseId}`,
    deployed_at: new Date().toISOString(),
  });
  await publish(
    'it is deployed to staging',
    deployed,
    deployed.id,
    has('distribution.updated', (p) => p.distribution_id === distributionId),
    'distribution.updated',
  );
  await publish(
    'the same deployment event again',
    deployed,
    null,
    'nothing',
    'nothing',
    'published again without Nats-Msg-Id (as after JetStream’s duplicate window): stored and delivered, and recognised by the service’s inbox by its envelope id: no second effect',
  );

  const id = distributionId;
  await call('the caller publishes the distribution', 'publish', { id }, has('distribution.published'), 'distribution.published');
  await call(
    'three page views',
    'log_view',
    { id },
    has('distribution.viewed', (p) => Number(p.view_count) >= 3),
    'distribution.viewed with view_count 3',
    3,
  );
  await call(
    'two enrollment clicks',
    'track_enrollment_click',
    { id },
    has('distribution.enrollment_clicked', (p) => Number(p.enrollment_count) >= 2),
    'distribution.enrollment_clicked',
    2,
  );
  await call(
    'a micro-niche variant for employees',
    'create_micro_niche_variant',
    { parent_id: id, target_group: ['employees'], title: 'Finanzalternativen für Angestellte' },
    has('distribution.micro_niche_created'),
    'distribution.micro_niche_created',
  );
  await call('a version bump', 'bump_version', { id, changelog: 'Neue Lektion zu Krypto-Wallets' }, has('distribution.version_bumped'), 'distribution.version_bumped');
  const stored = await call('the distribution as stored', 'get', { id }, () => true, 'nothing');
  return { tenant: TENANT, courseId, distributionId, steps, stored };
}

export { TENANT as DEMO_TENANT };
