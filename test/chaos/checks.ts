/**
 * What a chaos run must show once it is quiet, read from PostgreSQL, the DISTRIBUTION stream and the ledger:
 * - every acknowledged (or retried) command has its effect, and its event, exactly once; nothing exists that no
 *   request or event caused;
 * - every CourseFactory event has exactly one effect; poison ones, and only they, are dead letters;
 * - every outbox row is on the stream exactly once, in commit order per distribution, and nothing else is;
 * - view and click totals lie between the acknowledged and the sent requests, and the last aggregated event of a
 *   distribution carries its total.
 * Each breach adds to one of the counters and leaves a line in `problems`.
 */
import type pg from 'pg';
import type { LedgerEntry } from './ledger.js';
import { CALLER_TENANT, COURSE_TENANT, type Page, type StepKind, type Workload } from './workload.js';

export interface StreamMessage {
  seq: number;
  subject: string;
  body: any;
}

export interface ChaosCounts {
  lost: number;
  duplicated: number;
  out_of_order: number;
  stuck: number;
  forged: number;
  /** Replies no client should get here (a 500, a 400, a 409 other than the retry's "done before"). */
  unexpected: number;
}

export interface ChaosFindings {
  counts: ChaosCounts;
  problems: string[];
  /** What was checked, so a pass is seen to have checked something. */
  checked: Record<string, number>;
}

interface Row {
  id: string;
  tenant_id: string;
  slug: string;
  course_id: string;
  derived_from: string | null;
  title: string;
  visibility: string;
  version: string;
  deleted_at: Date | null;
  view_count: string;
  enrollment_count: string;
  staging_url: string | null;
}

/** The event types a page step causes on the page itself. */
const STEP_EVENT: Partial<Record<StepKind, string>> = {
  update: 'distribution.updated',
  publish: 'distribution.published',
  bump: 'distribution.version_bumped',
  unpublish: 'distribution.unpublished',
  delete: 'distribution.deleted',
};

export async function checkChaosRun(
  db: pg.Pool,
  stream: StreamMessage[],
  workload: Workload,
  ledger: readonly LedgerEntry[],
  pending: { consumer: number },
): Promise<ChaosFindings> {
  const counts: ChaosCounts = { lost: 0, duplicated: 0, out_of_order: 0, stuck: 0, forged: 0, unexpected: 0 };
  const problems: string[] = [];
  const breach = (counter: keyof ChaosCounts, problem: string, by = 1) => {
    counts[counter] += by;
    if (problems.length < 200) problems.push(`${counter}: ${problem}`);
  };

  // --- the outbox against the stream ---
  const outbox = (
    await db.query<{ id: string; event_id: string; subject: string; published_at: Date | null }>(`select id, event_id, subject, published_at from outbox_event order by id`)
  ).rows;
  const parked = Number((await db.query<{ n: string }>(`select count(*) as n from outbox_event where parked_at is not null`).catch(() => ({ rows: [{ n: '0' }] }))).rows[0]!.n);
  if (parked > 0) breach('stuck', `${parked} outbox rows parked`, parked);
  const outboxIds = new Set(outbox.map((r) => r.event_id));
  const onStream = new Map<string, StreamMessage>();
  for (const message of stream) {
    const id = String(message.body?.id);
    if (onStream.has(id)) breach('duplicated', `event ${id} stored twice on the stream (seq ${onStream.get(id)!.seq} and ${message.seq})`);
    else onStream.set(id, message);
    if (!outboxIds.has(id)) breach('forged', `stream seq ${message.seq} (${message.subject}) has an event no outbox row wrote`);
  }
  for (const row of outbox) {
    if (row.published_at === null) breach('stuck', `outbox row ${row.id} (${row.subject}) still unpublished`);
    else if (!onStream.has(row.event_id)) breach('lost', `outbox row ${row.id} (${row.subject}) marked published but not on the stream`);
  }
  const byDistribution = groupBy(outbox, (r) => r.subject.split('.').pop()!);
  for (const [distribution, rows] of byDistribution) {
    const committed = rows.map((r) => r.event_id).filter((id) => onStream.has(id));
    const published = [...committed].sort((a, b) => onStream.get(a)!.seq - onStream.get(b)!.seq);
    if (committed.join() !== published.join()) breach('out_of_order', `events of ${distribution} on the stream out of commit order`);
  }

  // --- the effects of commands ---
  const rows = (
    await db.query<Row>(`select id, tenant_id, slug, course_id, derived_from, title, visibility, version, deleted_at, view_count, enrollment_count, staging_url from distribution`)
  ).rows;
  const events = groupBy([...onStream.values()], (m) => m.subject.split('.').pop()!);
  const eventsOf = (id: string, type?: string) => (events.get(id) ?? []).filter((m) => type === undefined || m.body.type === type);
  const caused = new Set<string>();
  for (const page of workload.pages) checkPage(page, rows, eventsOf, caused, breach);
  for (const hot of workload.hot) {
    const row = rows.find((r) => r.id === hot.id);
    if (!row) {
      breach('lost', `hot page ${hot.id} missing`);
      continue;
    }
    caused.add(row.id);
    checkTotal(`views of ${hot.id}`, Number(row.view_count), hot.views, eventsOf(hot.id, 'distribution.viewed'), 'view_count', breach);
    checkTotal(`clicks of ${hot.id}`, Number(row.enrollment_count), hot.clicks, eventsOf(hot.id, 'distribution.enrollment_clicked'), 'enrollment_count', breach);
  }

  // --- the effects of CourseFactory's events ---
  const deadLetters = (await db.query<{ message_id: string | null; reason: string }>(`select message_id, reason from dead_letter`)).rows;
  const acked = (courseId: string, type: string) => ledger.some((e) => e.kind === 'course_event' && e.courseId === courseId && e.type === type && e.ack !== 'none');
  for (const course of workload.courses) {
    const courseRows = rows.filter((r) => r.tenant_id === COURSE_TENANT && r.course_id === course.courseId);
    for (const row of courseRows) caused.add(row.id);
    if (course.poison) {
      if (courseRows.length > 0) breach('duplicated', `poison course ${course.courseId} has a distribution`);
      for (const msgId of course.poisonMsgIds) {
        const letters = deadLetters.filter((d) => d.message_id === msgId).length;
        if (letters === 0 && acked(course.courseId, 'course.generation.completed')) breach('lost', `poison message ${msgId} is not a dead letter`);
        if (letters > 1) breach('duplicated', `poison message ${msgId} dead-lettered ${letters} times`);
      }
      continue;
    }
    if (!acked(course.courseId, 'course.generation.completed')) continue; // never stored: nothing to expect
    if (courseRows.length !== 1) {
      breach(courseRows.length === 0 ? 'lost' : 'duplicated', `course ${course.courseId} has ${courseRows.length} distributions`);
      continue;
    }
    const row = courseRows[0]!;
    const created = eventsOf(row.id, 'distribution.created').length;
    if (created !== 1) breach(created === 0 ? 'lost' : 'duplicated', `course ${course.courseId}: ${created} distribution.created`);
    if (course.stagingUrl && acked(course.courseId, 'course.deployed.staging') && row.staging_url !== course.stagingUrl) {
      breach('lost', `course ${course.courseId}: staging_url ${row.staging_url}, expected ${course.stagingUrl}`);
    }
  }
  const poisonIds = new Set(workload.courses.flatMap((c) => c.poisonMsgIds));
  for (const letter of deadLetters) {
    if (!letter.message_id || !poisonIds.has(letter.message_id)) breach('unexpected', `dead letter of a message that is not poison: ${letter.message_id} (${letter.reason})`);
  }
  for (const row of rows) if (!caused.has(row.id)) breach('duplicated', `distribution ${row.id} (${row.tenant_id}/${row.slug}) no request or event caused`);

  // --- replies, and work left over ---
  const requests = ledger.filter((e) => e.kind === 'request');
  for (const entry of requests) {
    if (entry.outcome === 'ok' || entry.outcome === 'none' || entry.outcome.startsWith('503 ')) continue;
    const doneBefore = entry.phase === 'retry' && ['409 SLUG_TAKEN', '404 NOT_FOUND'].includes(entry.outcome);
    if (!doneBefore) breach('unexpected', `${entry.operation} ${JSON.stringify(entry.body).slice(0, 120)} answered ${entry.outcome}`);
  }
  for (const page of workload.pages) for (const step of page.steps) if (step.state === 'failed') breach('stuck', `${page.slug}: ${step.kind} never succeeded`);
  if (pending.consumer > 0) breach('stuck', `${pending.consumer} CourseFactory messages still pending`, pending.consumer);

  return {
    counts,
    problems,
    checked: {
      requests: requests.length,
      acknowledged: requests.filter((e) => e.outcome === 'ok').length,
      unanswered: requests.filter((e) => e.outcome !== 'ok' && e.phase === 'workload').length,
      retried: requests.filter((e) => e.phase === 'retry').length,
      pages: workload.pages.length,
      distributions: rows.length,
      events: onStream.size,
      outbox_rows: outbox.length,
      course_events: ledger.filter((e) => e.kind === 'course_event').length,
      dead_letters: deadLetters.length,
      faults: ledger.filter((e) => e.kind === 'fault').length,
    },
  };
}

type Breach = (counter: keyof ChaosCounts, problem: string, by?: number) => void;

/** One page: its row (and its variant's) exists exactly when its create succeeded, with one event per successful step. */
function checkPage(page: Page, rows: Row[], eventsOf: (id: string, type?: string) => StreamMessage[], caused: Set<string>, breach: Breach): void {
  const ok = (kind: StepKind) => page.steps.some((s) => s.kind === kind && s.state === 'ok');
  const unsettled = (kind: StepKind) => page.steps.some((s) => s.kind === kind && s.state === 'failed');
  const own = rows.filter((r) => r.tenant_id === CALLER_TENANT && r.slug === page.slug);
  if (unsettled('create')) {
    for (const r of own) caused.add(r.id);
    return;
  }
  if (!ok('create')) {
    if (own.length > 0) breach('duplicated', `${page.slug}: created although no create was acknowledged or retried`);
    return;
  }
  if (own.length !== 1) {
    breach(own.length === 0 ? 'lost' : 'duplicated', `${page.slug}: ${own.length} distributions`);
    return;
  }
  const row = own[0]!;
  caused.add(row.id);
  if (page.id !== row.id) breach('duplicated', `${page.slug}: the reply named ${page.id}, the database has ${row.id}`);
  const expectOnce = (id: string, type: string, expected: boolean, what: string, match: (body: any) => boolean = () => true) => {
    const found = eventsOf(id, type).filter((m) => match(m.body)).length;
    const want = expected ? 1 : 0;
    if (found < want) breach('lost', `${what}: no ${type}`);
    if (found > want) breach('duplicated', `${what}: ${found} × ${type}, expected ${want}`);
  };
  expectOnce(row.id, 'distribution.created', true, page.slug);
  const possible = new Set(['distribution.created', ...page.steps.flatMap((s) => STEP_EVENT[s.kind] ?? [])]);
  for (const uncaused of eventsOf(row.id).filter((m) => !possible.has(m.body.type))) breach('duplicated', `${page.slug}: ${uncaused.body.type} that no request caused`);
  for (const step of page.steps) {
    const type = STEP_EVENT[step.kind];
    if (!type || step.state === 'failed') continue;
    const match = step.kind === 'update' ? (b: any) => b.payload.new_values?.title === step.mark : step.kind === 'bump' ? (b: any) => b.payload.changelog === step.mark : undefined;
    expectOnce(row.id, type, step.state === 'ok', `${page.slug} ${step.kind}`, match);
  }
  const expectedVisibility = ok('publish') && !ok('unpublish') ? 'public' : 'private';
  if (!unsettled('publish') && !unsettled('unpublish') && row.visibility !== expectedVisibility)
    breach('lost', `${page.slug}: visibility ${row.visibility}, expected ${expectedVisibility}`);
  if (!unsettled('bump') && row.version !== (ok('bump') ? 'v2' : 'v1')) breach('lost', `${page.slug}: version ${row.version}`);
  if (!unsettled('delete') && (row.deleted_at !== null) !== ok('delete')) breach('lost', `${page.slug}: deleted_at ${String(row.deleted_at)}`);
  if (ok('update') && row.title !== page.steps.find((s) => s.kind === 'update')!.mark) breach('lost', `${page.slug}: title ${row.title}`);

  const variant = page.steps.find((s) => s.kind === 'variant');
  if (!variant) return;
  const children = rows.filter((r) => r.tenant_id === CALLER_TENANT && r.slug === variant.mark);
  for (const child of children) caused.add(child.id);
  if (variant.state === 'failed') return;
  const want = variant.state === 'ok' ? 1 : 0;
  if (children.length !== want) {
    breach(children.length < want ? 'lost' : 'duplicated', `${variant.mark}: ${children.length} variants, expected ${want}`);
    return;
  }
  const child = children[0];
  if (!child) return;
  if (child.derived_from !== row.id) breach('lost', `${variant.mark}: derived from ${child.derived_from}`);
  const childTypes = new Set(['distribution.created', 'distribution.micro_niche_created', 'distribution.deleted']);
  for (const uncaused of eventsOf(child.id).filter((m) => !childTypes.has(m.body.type))) breach('duplicated', `${variant.mark}: ${uncaused.body.type} that no request caused`);
  expectOnce(child.id, 'distribution.created', true, variant.mark);
  expectOnce(child.id, 'distribution.micro_niche_created', true, variant.mark);
  if (!unsettled('delete')) expectOnce(child.id, 'distribution.deleted', ok('delete'), `${variant.mark} (cascade)`);
}

/** A total between the acknowledged and the sent requests; the last aggregated event carries it; events never go down. */
function checkTotal(
  what: string,
  total: number,
  requests: { sent: number; acked: number },
  tracking: StreamMessage[],
  field: 'view_count' | 'enrollment_count',
  breach: Breach,
): void {
  if (total < requests.acked) breach('lost', `${what}: total ${total} below the ${requests.acked} acknowledged`);
  if (total > requests.sent) breach('duplicated', `${what}: total ${total} above the ${requests.sent} sent`);
  const totals = tracking.map((m) => Number(m.body.payload[field]));
  if (total > 0 && totals.at(-1) !== total) breach('lost', `${what}: the last event carries ${totals.at(-1)}, the total is ${total}`);
  for (let i = 1; i < totals.length; i++) {
    if (totals[i]! < totals[i - 1]!) {
      breach('out_of_order', `${what}: events go down from ${totals[i - 1]} to ${totals[i]}`);
      break;
    }
  }
}

function groupBy<T>(items: Iterable<T>, key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
