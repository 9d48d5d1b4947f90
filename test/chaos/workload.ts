/**
 * The chaos run's workload, planned from the seed: callers that each take landing pages through their life
 * (create, with and without an idempotency key, update, publish, variant, version bump, unpublish, delete), viewers
 * that send bursts of views and clicks to a few hot pages, and CourseFactory publishing its two events with
 * duplicates, re-publishes, staging before generation, and some poison. Every request and event goes to the ledger.
 *
 * A caller works on one page at a time and stops working on a page at the first request that got no success reply
 * (it moves to a new page): that request is retried when the run is quiet, so a retry never overtakes a later step
 * of the same page. Views and clicks are not retried: a client does not know whether a lost one counted.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { callService } from '../helpers/app.js';
import { courseEnvelope, deployedStaging, generationCompleted } from '../helpers/course-events.js';
import type { Ledger, Outcome, RequestEntry } from './ledger.js';
import type { Random } from './seeded-random.js';

export const CALLER_TENANT = 'chaos';
/** CourseFactory's events name this tenant. */
export const COURSE_TENANT = 'brain_prod';

export type StepKind = 'create' | 'update' | 'publish' | 'variant' | 'bump' | 'unpublish' | 'delete';

export interface Step {
  kind: StepKind;
  /** `ok` after a success reply (in the workload or a retry); `pending` after a request without one; `failed` when retries gave up. */
  state: 'planned' | 'ok' | 'pending' | 'failed';
  /** What makes this step's effect recognisable: the new title, the changelog, the variant's slug. */
  mark: string;
}

export interface Page {
  worker: string;
  slug: string;
  courseId: string;
  idempotencyKey?: string;
  id?: string;
  variantId?: string;
  steps: Step[];
}

export interface HotPage {
  id: string;
  views: { sent: number; acked: number };
  clicks: { sent: number; acked: number };
}

export interface CourseScript {
  courseId: string;
  /** The generation event was poison (never valid): it must end as a dead letter, and nothing else. */
  poison: boolean;
  stagingUrl?: string;
  /** Nats-Msg-Id of each poison message published. */
  poisonMsgIds: string[];
}

export interface WorkloadDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  ledger: Ledger;
  random: Random;
  seed: number;
  requestTimeoutMs: number;
}

export interface Workload {
  pages: Page[];
  hot: HotPage[];
  courses: CourseScript[];
}

/** Sends one request and records it; a thrown error (timeout, no responders, connection lost) is the outcome `none`. */
export async function request(deps: WorkloadDeps, phase: RequestEntry['phase'], worker: string, tenant: string, operation: string, body: Record<string, unknown>) {
  let outcome: Outcome;
  let reply: any;
  try {
    const answer = await callService(deps.nc, '', tenant, operation, body, { timeout: deps.requestTimeoutMs });
    reply = answer.body;
    outcome = answer.status === 200 ? 'ok' : `${answer.status} ${answer.body?.error?.code ?? '?'}`;
  } catch {
    outcome = 'none';
  }
  deps.ledger.record({ kind: 'request', phase, worker, tenant, operation, body, outcome, ...(reply !== undefined && { reply }) });
  return { outcome, reply };
}

/** The request body of a step (a page's id is known once its create succeeded). */
export function stepBody(page: Page, step: Step): Record<string, unknown> {
  switch (step.kind) {
    case 'create':
      return {
        course_id: page.courseId,
        slug: page.slug,
        title: `Chaos ${page.slug}`,
        language: 'de',
        description: 'Eine Seite aus dem Chaoslauf.',
        seo: { meta_title: `Chaos ${page.slug}`, meta_description: 'Seite aus dem Chaoslauf' },
        ...(page.idempotencyKey && { idempotency_key: page.idempotencyKey }),
      };
    case 'update':
      return { id: page.id, title: step.mark };
    case 'publish':
      return { id: page.id };
    case 'variant':
      return { parent_id: page.id, target_group: ['chaos_niche'], slug: step.mark, idempotency_key: `variant-${step.mark}` };
    case 'bump':
      return { id: page.id, changelog: step.mark, idempotency_key: `bump-${page.slug}` };
    case 'unpublish':
      return { id: page.id, reason: 'content_revision_required' };
    case 'delete':
      return { id: page.id, deleted_by: 'chaos', cascade: true };
    default: {
      const unknown: never = step.kind;
      throw new Error(`unknown step ${String(unknown)}`);
    }
  }
}

const OPERATION: Record<StepKind, string> = {
  create: 'create',
  update: 'update',
  publish: 'publish',
  variant: 'create_micro_niche_variant',
  bump: 'bump_version',
  unpublish: 'unpublish',
  delete: 'delete',
};

/**
 * Sends a step and settles it. In the retry phase a caller also reads two refusals as "done before": a create
 * without idempotency key refused with SLUG_TAKEN (the slug is this page's own: the lost create took effect; its
 * id is read back), and a delete refused with NOT_FOUND.
 */
export async function sendStep(deps: WorkloadDeps, phase: RequestEntry['phase'], page: Page, step: Step): Promise<Outcome> {
  const { outcome, reply } = await request(deps, phase, page.worker, CALLER_TENANT, OPERATION[step.kind], stepBody(page, step));
  let done = outcome === 'ok';
  if (!done && phase === 'retry' && step.kind === 'create' && outcome === '409 SLUG_TAKEN') {
    const found = await request(deps, phase, page.worker, CALLER_TENANT, 'get_by_slug', { slug: page.slug });
    if (found.outcome === 'ok') {
      page.id = found.reply.id;
      done = true;
    }
  } else if (!done && phase === 'retry' && step.kind === 'delete' && outcome === '404 NOT_FOUND') {
    done = true;
  } else if (done && step.kind === 'create') {
    page.id = reply.id;
  } else if (done && step.kind === 'variant') {
    page.variantId = reply.id;
  }
  step.state = done ? 'ok' : 'pending';
  return outcome;
}

function planPage(random: Random, seed: number, worker: string, index: number): Page {
  const slug = `s${seed}-${worker}-${index}`;
  const steps: Step[] = [{ kind: 'create', state: 'planned', mark: slug }];
  steps.push({ kind: 'update', state: 'planned', mark: `Neu ${slug}` });
  steps.push({ kind: 'publish', state: 'planned', mark: '' });
  if (random.chance(0.5)) steps.push({ kind: 'variant', state: 'planned', mark: `${slug}-niche` });
  if (random.chance(0.6)) steps.push({ kind: 'bump', state: 'planned', mark: `Kapitel ergänzt ${slug}` });
  if (random.chance(0.4)) steps.push({ kind: 'unpublish', state: 'planned', mark: '' });
  if (random.chance(0.3)) steps.push({ kind: 'delete', state: 'planned', mark: '' });
  return { worker, slug, courseId: `course-${slug}`, ...(random.chance(0.5) && { idempotencyKey: `create-${slug}` }), steps };
}

/** One caller: pages one after another until `until`. */
async function caller(deps: WorkloadDeps, random: Random, worker: string, until: number, pages: Page[]): Promise<void> {
  for (let index = 0; Date.now() < until; index++) {
    const page = planPage(random, deps.seed, worker, index);
    pages.push(page);
    for (const step of page.steps) {
      if (Date.now() >= until) break;
      const outcome = await sendStep(deps, 'workload', page, step);
      if (outcome !== 'ok') {
        await sleep(200); // an error reply or none: the service is in trouble; back off a little
        break;
      }
    }
  }
}

/** One viewer: views and clicks on the hot pages until `until`, never retried. */
async function viewer(deps: WorkloadDeps, random: Random, worker: string, until: number, hot: HotPage[]): Promise<void> {
  while (Date.now() < until) {
    const page = random.pick(hot);
    const burst = random.int(5, 20);
    await Promise.all(
      Array.from({ length: burst }, async () => {
        const click = random.chance(0.3);
        const counter = click ? page.clicks : page.views;
        counter.sent += 1;
        const body = click ? { id: page.id, cta_type: 'primary_button' } : { id: page.id, referrer_category: random.pick(['direct', 'social', 'organic_search']) };
        const { outcome } = await request(deps, 'workload', worker, CALLER_TENANT, click ? 'track_enrollment_click' : 'log_view', body);
        if (outcome === 'ok') counter.acked += 1;
      }),
    );
    await sleep(random.int(20, 120));
  }
}

/**
 * Publishes one CourseFactory event the way a producer does: with its Nats-Msg-Id (when it has one) again after a
 * failed or unanswered publish, until a PubAck or 40 attempts.
 */
async function publishCourse(deps: WorkloadDeps, type: string, courseId: string, body: string, envelopeId: string, msgId: string | null, poison: boolean, payload?: unknown) {
  const h = headers();
  h.set('Content-Type', 'application/json');
  let ack: 'stored' | 'duplicate' | 'none' = 'none';
  for (let attempt = 0; attempt < 40 && ack === 'none'; attempt++) {
    try {
      const answer = await deps.js.publish(`${type}.${courseId}`, body, { headers: h, timeout: 2000, ...(msgId !== null && { msgID: msgId }) });
      ack = answer.duplicate ? 'duplicate' : 'stored';
    } catch {
      if (msgId === null) break; // without a message id a retry could store it twice: the duplicate is published once only
      await sleep(250);
    }
  }
  deps.ledger.record({ kind: 'course_event', type, envelopeId, msgId, courseId, poison, ack, ...(payload !== undefined && { payload }) });
}

/** CourseFactory: one course after another until `until`. */
async function courseFactory(deps: WorkloadDeps, random: Random, until: number, courses: CourseScript[]): Promise<void> {
  for (let index = 0; Date.now() < until; index++) {
    const courseId = `cf-${deps.seed}-${index}`;
    const script: CourseScript = { courseId, poison: random.chance(0.08), poisonMsgIds: [] };
    courses.push(script);
    const stagingFirst = random.chance(0.3);
    const stagingAfter = !stagingFirst && random.chance(0.4);
    const staging = async () => {
      const payload = deployedStaging(courseId, '2026-01-05T10:00:00Z', `https://staging.example.org/courses/${courseId}`);
      const envelope = courseEnvelope('course.deployed.staging', payload);
      script.stagingUrl = payload.staging_url;
      await publishCourse(deps, 'course.deployed.staging', courseId, JSON.stringify(envelope), envelope.id, envelope.id, false, payload);
    };
    if (stagingFirst) await staging();
    if (script.poison) {
      const msgId = `poison-${courseId}`;
      script.poisonMsgIds.push(msgId);
      const body = random.chance(0.5)
        ? `{"type":"course.generation.completed","payload":{"course_id":"${courseId}"`
        : JSON.stringify(courseEnvelope('course.generation.completed', { course_id: courseId }));
      await publishCourse(deps, 'course.generation.completed', courseId, body, msgId, msgId, true);
    } else {
      const payload = generationCompleted(courseId, { title: `Chaos Kurs ${courseId}`, tenant_id: COURSE_TENANT });
      const envelope = courseEnvelope('course.generation.completed', payload, { id: `evt_cf_${randomUUID()}` });
      const body = JSON.stringify(envelope);
      await publishCourse(deps, 'course.generation.completed', courseId, body, envelope.id, envelope.id, false, payload);
      if (random.chance(0.15)) await publishCourse(deps, 'course.generation.completed', courseId, body, envelope.id, envelope.id, false, payload); // the stream's dedup
      if (random.chance(0.25)) await publishCourse(deps, 'course.generation.completed', courseId, body, envelope.id, null, false, payload); // the inbox's dedup (envelope id)
    }
    if (stagingAfter) await staging();
    await sleep(random.int(30, 150));
  }
}

/** Creates the hot pages before any fault (retrying until each exists). */
export async function createHotPages(deps: WorkloadDeps, count: number): Promise<HotPage[]> {
  const hot: HotPage[] = [];
  for (let i = 0; i < count; i++) {
    const slug = `hot-${deps.seed}-${i}`;
    for (let attempt = 0; ; attempt++) {
      const body = { course_id: `course-${slug}`, slug, title: `Heiß ${i}`, language: 'de', idempotency_key: `create-${slug}` };
      const { outcome, reply } = await request(deps, 'workload', 'setup', CALLER_TENANT, 'create', body);
      if (outcome === 'ok') {
        hot.push({ id: reply.id, views: { sent: 0, acked: 0 }, clicks: { sent: 0, acked: 0 } });
        break;
      }
      if (attempt > 50) throw new Error(`could not create hot page ${slug}: ${outcome}`);
      await sleep(200);
    }
  }
  return hot;
}

/** Runs callers, viewers and CourseFactory until `durationMs` has passed. */
export async function runWorkload(deps: WorkloadDeps, options: { durationMs: number; callers: number; viewers: number; hot: HotPage[] }): Promise<Workload> {
  const until = Date.now() + options.durationMs;
  const pages: Page[] = [];
  const courses: CourseScript[] = [];
  await Promise.all([
    ...Array.from({ length: options.callers }, (_, i) => caller(deps, deps.random.fork(100 + i), `caller${i}`, until, pages)),
    ...Array.from({ length: options.viewers }, (_, i) => viewer(deps, deps.random.fork(200 + i), `viewer${i}`, until, options.hot)),
    courseFactory(deps, deps.random.fork(300), until, courses),
  ]);
  return { pages, hot: options.hot, courses };
}

/**
 * The client's retries once the run is quiet: every step that got no success reply, again and again (same body,
 * same idempotency key) until a success or a final refusal, up to `attempts`.
 */
export async function retryPending(deps: WorkloadDeps, pages: Page[], attempts = 10): Promise<void> {
  for (const page of pages) {
    const step = page.steps.find((s) => s.state === 'pending');
    if (!step) continue;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const outcome = await sendStep(deps, 'retry', page, step);
      if (step.state === 'ok') break;
      if (outcome !== 'none' && !outcome.startsWith('503')) break; // a final refusal: reported by the checks
      await sleep(500);
    }
    if (step.state !== 'ok') step.state = 'failed';
  }
}
