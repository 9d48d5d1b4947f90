/**
 * The demo's output: for a terminal, each step with its request, its reply (the fields that tell the story) and
 * the events (type, subject, a few payload fields); with `--json`, the whole record as one JSON document.
 */
import type { DemoResult, StepRecord } from './scenario.js';

/** The reply and payload fields shown in the terminal; the JSON output has them all. */
const SHOWN = [
  'id',
  'distribution_id',
  'child_distribution_id',
  'parent_distribution_id',
  'course_id',
  'slug',
  'child_slug',
  'visibility',
  'version',
  'old_version',
  'new_version',
  'updated_fields',
  'staging_url',
  'view_count',
  'enrollment_count',
  'target_group',
  'target_group_override',
  'derived_from',
  'row_version',
  'stream',
  'seq',
  'duplicate',
];

function fields(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const shown = SHOWN.filter((key) => key in value).map((key) => `${key}=${JSON.stringify((value as Record<string, unknown>)[key])}`);
  return shown.join('  ');
}

function renderStep(step: StepRecord, n: number): string {
  const lines = [`${n}. [${step.actor}] ${step.title}`];
  const times = step.request.times ? ` (x${step.request.times})` : '';
  const body = step.actor === 'CourseFactory' ? fields((step.request.body as { payload: unknown }).payload) : JSON.stringify(step.request.body);
  lines.push(`   -> ${step.request.subject}${times}  ${body}`);
  lines.push(`   <- ${fields(step.reply)}`);
  if (step.note) lines.push(`      ${step.note}`);
  if (step.events.length === 0) lines.push('   events: none');
  for (const event of step.events) lines.push(`   event ${event.type}  on ${event.subject}  ${fields(event.payload)}`);
  return lines.join('\n');
}

export function renderText(result: DemoResult, where: string): string {
  return [
    `course-distribution demo (${where}); tenant ${result.tenant}, course ${result.courseId}`,
    '',
    ...result.steps.map((step, i) => `${renderStep(step, i + 1)}\n`),
    'The distribution as stored:',
    JSON.stringify(result.stored, null, 2),
    '',
  ].join('\n');
}

export function renderJson(result: DemoResult, where: string): string {
  return `${JSON.stringify({ service: where, ...result }, null, 2)}\n`;
}
