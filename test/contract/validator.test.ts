import t from 'tap';
import { createContractValidator, formatIssues } from '../../src/contracts/index.js';
import { catalogueExample } from '../helpers/examples.js';

const validator = createContractValidator({ maxBytes: 4096 });

t.test('when the body is not JSON, then parse names it and does not throw', async (t) => {
  const result = validator.parse('distribution.created', '{"id": ');
  t.match(result, { ok: false, kind: 'not_json', issues: [{ path: '', reason: /not valid JSON/ }] });
});

t.test('when the body is not UTF-8, then it is refused as not JSON', async (t) => {
  const result = validator.parse('distribution.created', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
  t.match(result, { ok: false, kind: 'not_json' });
});

t.test('when the body is JSON but not an object, then parse says what it got', async (t) => {
  t.match(validator.parse('distribution.created', '[1,2]'), { ok: false, kind: 'not_object', issues: [{ reason: /got an array/ }] });
  t.match(validator.parse('distribution.created', 'null'), { ok: false, kind: 'not_object', issues: [{ reason: /got null/ }] });
  t.match(validator.parse('distribution.created', '"text"'), { ok: false, kind: 'not_object', issues: [{ reason: /got a string/ }] });
  t.match(validator.parse('distribution.created', '42'), { ok: false, kind: 'not_object', issues: [{ reason: /got a number/ }] });
});

t.test('when the body is over the limit, then it is refused before it is parsed', async (t) => {
  const body = JSON.stringify({ padding: 'x'.repeat(5000) });
  const result = validator.parse('distribution.created', Buffer.from(body));
  t.match(result, { ok: false, kind: 'too_large', issues: [{ reason: /over the limit of 4096/ }] });
});

t.test('when the bytes are a valid event, then parse returns it typed', async (t) => {
  const event = catalogueExample('distribution.created');
  const result = validator.parse('distribution.created', new TextEncoder().encode(JSON.stringify(event)));
  t.ok(result.ok);
  if (result.ok) t.equal(result.value.payload.slug, 'alternativen-banken-privatpersonen');
});

t.test('when a document has several defects, then every one is listed with its path', async (t) => {
  const event = catalogueExample('distribution.created');
  const payload = event.payload as Record<string, unknown>;
  delete payload.slug;
  payload.visibility = 'hidden';
  payload.created_at = 'soon';
  const result = validator.validate('distribution.created', event);
  t.notOk(result.ok);
  if (result.ok) return;
  t.same(result.issues.map((i) => i.path).sort(), ['/payload', '/payload/created_at', '/payload/visibility']);
  t.match(formatIssues(result.issues), /\/payload: missing required field "slug"/);
  t.match(formatIssues(result.issues), /\/payload\/visibility: must be one of "private", "public"/);
});

t.test('when is() is asked, then it narrows only valid documents', async (t) => {
  const event: unknown = catalogueExample('distribution.created');
  t.ok(validator.is('distribution.created', event));
  t.notOk(validator.is('distribution.created', { ...(event as object), type: 'distribution.deleted' }));
});
