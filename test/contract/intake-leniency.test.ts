/**
 * Lenient where the catalogue is silent, strict where it speaks: a consumed event may lack fields the service does
 * not use and may carry fields it does not know; the fields it uses keep their checks. Languages are BCP 47 tags
 * wherever a language appears (requests, responses, produced and consumed events).
 */
import t from 'tap';
import { createContractValidator } from '../../src/contracts/index.js';
import type { SchemaName } from '../../generated/schemas.js';
import { catalogueExample, readExamples } from '../helpers/examples.js';

const validator = createContractValidator();
const issuesOf = (name: SchemaName, data: unknown) => {
  const result = validator.validate(name, data);
  return result.ok ? [] : result.issues;
};
const payloadOf = (event: Record<string, unknown>) => event.payload as Record<string, unknown>;

const WELL_FORMED = ['de', 'DE', 'de-AT', 'zh-Hant', 'zh-Hant-TW', 'es-419', 'de-CH-1996', 'sr-Latn-RS', 'en-US-x-twain', 'zh-yue-HK', 'de-DE-u-co-phonebk'];
const MALFORMED = ['German', 'Deutsch', 'de_DE', 'd', 'de-', 'de--AT', '12', 'de-AT-', 'de-x', 'en-US-abcdefghi'];

t.test('when course.generation.completed lacks total_lessons (unused by the service), then it is accepted', async (t) => {
  const event = catalogueExample('course.generation.completed');
  delete payloadOf(event).total_lessons;
  t.same(issuesOf('course.generation.completed', event), []);
});

t.test('when total_lessons is present but not a non-negative integer, then it is still rejected', async (t) => {
  for (const bad of ['12', -1, 1.5]) {
    const event = catalogueExample('course.generation.completed');
    payloadOf(event).total_lessons = bad;
    t.match(issuesOf('course.generation.completed', event), [{ path: '/payload/total_lessons' }], `total_lessons = ${JSON.stringify(bad)}`);
  }
});

t.test('when a field the service uses is missing, then the consumed event is still rejected', async (t) => {
  for (const field of ['course_id', 'tenant_id', 'title', 'description', 'language', 'target_audiences', 'completed_at']) {
    const event = catalogueExample('course.generation.completed');
    delete payloadOf(event)[field];
    t.match(issuesOf('course.generation.completed', event), [{ path: '/payload', reason: `missing required field "${field}"` }], field);
  }
});

t.test('when a consumed event carries unknown fields in its payload, meta and envelope, then it is accepted', async (t) => {
  for (const type of ['course.generation.completed', 'course.deployed.staging'] as const) {
    const event = catalogueExample(type);
    payloadOf(event).difficulty = 'advanced';
    (event.meta as Record<string, unknown>).trace_id = 'abc';
    event.schema_hash = 'sha256:0';
    t.same(issuesOf(type, event), [], type);
  }
});

t.test('when a language is a well-formed BCP 47 tag, then every schema that carries a language accepts it', async (t) => {
  for (const language of WELL_FORMED) {
    const create = { course_id: 'course_1', title: 'Kurs', language };
    t.same(issuesOf('op.create.request', create), [], `create ${language}`);
    t.same(issuesOf('op.update.request', { id: 'dist_01JABCDEFGHJKMNPQRSTVWXYZ0', language }), [], `update ${language}`);
    const completed = catalogueExample('course.generation.completed');
    payloadOf(completed).language = language;
    t.same(issuesOf('course.generation.completed', completed), [], `course.generation.completed ${language}`);
    for (const type of ['distribution.created', 'distribution.published'] as const) {
      const event = catalogueExample(type);
      payloadOf(event).language = language;
      t.same(issuesOf(type, event), [], `${type} ${language}`);
    }
    const resource = structuredClone(readExamples('op.get.response').valid[0]!.data) as Record<string, unknown>;
    resource.language = language;
    t.same(issuesOf('op.get.response', resource), [], `the distribution resource ${language}`);
  }
});

t.test('when a language is not a well-formed tag, then it is rejected', async (t) => {
  for (const language of MALFORMED) {
    t.match(issuesOf('op.create.request', { course_id: 'course_1', title: 'Kurs', language }), [{ path: '/language' }], language);
  }
});

t.test('when a click names no CTA element, then unknown is a valid cta_type of the request and of its event', async (t) => {
  t.same(issuesOf('op.track_enrollment_click.request', { id: 'dist_01JABCDEFGHJKMNPQRSTVWXYZ0', cta_type: 'unknown' }), []);
  const event = catalogueExample('distribution.enrollment_clicked');
  payloadOf(event).cta_type = 'unknown';
  t.same(issuesOf('distribution.enrollment_clicked', event), []);
  const viewed = catalogueExample('distribution.viewed');
  payloadOf(viewed).referrer_category = 'unknown';
  t.same(issuesOf('distribution.viewed', viewed), []);
});

t.test("when a landing page's own CTA says unknown, then it is rejected: only clicks may be unattributed", async (t) => {
  const create = { course_id: 'course_1', title: 'Kurs', language: 'de', cta: { label: 'Los', type: 'unknown' } };
  t.match(issuesOf('op.create.request', create), [{ path: '/cta/type' }]);
});
