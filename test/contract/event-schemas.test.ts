import t from 'tap';
import { CONSUMED_EVENT_TYPES, PRODUCED_EVENT_TYPES, createContractValidator } from '../../src/contracts/index.js';
import type { SchemaName } from '../../generated/schemas.js';
import { catalogueExample } from '../helpers/examples.js';

const validator = createContractValidator();
const EVENT_TYPES = [...PRODUCED_EVENT_TYPES, ...CONSUMED_EVENT_TYPES];
/** Catalogue fields of consumed events the service does not need: they may be missing (test/contract/intake-leniency.test.ts). */
const OPTIONAL_FIELDS: Record<string, readonly string[]> = { 'course.generation.completed': ['total_lessons'] };

function payloadOf(event: Record<string, unknown>): Record<string, unknown> {
  return event.payload as Record<string, unknown>;
}

function firstTimestampField(payload: Record<string, unknown>): string {
  const field = Object.keys(payload).find((k) => /_at$/.test(k));
  if (!field) throw new Error('payload has no *_at timestamp');
  return field;
}

for (const type of EVENT_TYPES) {
  const name = type as SchemaName;
  const produced = (PRODUCED_EVENT_TYPES as readonly string[]).includes(type);

  t.test(`${type}: when given the catalogue's example in its envelope, then it is accepted`, async (t) => {
    const result = validator.validate(name, catalogueExample(type));
    t.same(result.ok ? [] : result.issues, [], 'no issues');
  });

  t.test(`${type}: when any required payload field is missing, then it is rejected naming the field`, async (t) => {
    for (const field of Object.keys(payloadOf(catalogueExample(type))).filter((f) => !OPTIONAL_FIELDS[type]?.includes(f))) {
      const event = catalogueExample(type);
      delete payloadOf(event)[field];
      const result = validator.validate(name, event);
      t.notOk(result.ok, `without ${field}`);
      if (!result.ok) t.match(result.issues, [{ path: '/payload', reason: `missing required field "${field}"` }]);
    }
  });

  t.test(`${type}: when a field has the wrong type, then it is rejected`, async (t) => {
    for (const field of Object.keys(payloadOf(catalogueExample(type)))) {
      const event = catalogueExample(type);
      payloadOf(event)[field] = { wrong: true };
      const result = validator.validate(name, event);
      t.notOk(result.ok, `${field} as an object`);
      if (!result.ok)
        t.ok(
          result.issues.some((i) => i.path.startsWith(`/payload/${field}`)),
          `issue names /payload/${field}`,
        );
    }
    const event = catalogueExample(type);
    event.timestamp = 1735380000;
    t.notOk(validator.validate(name, event).ok, 'envelope timestamp as a number');
  });

  t.test(`${type}: when a timestamp is not RFC 3339, then it is rejected`, async (t) => {
    for (const bad of ['yesterday', '2025-13-45T00:00:00Z', '2025-12-28 10:30:00', '2025-12-28T10:30:00']) {
      const event = catalogueExample(type);
      const field = firstTimestampField(payloadOf(event));
      payloadOf(event)[field] = bad;
      const result = validator.validate(name, event);
      t.notOk(result.ok, `${field} = ${bad}`);
      if (!result.ok) t.match(result.issues, [{ path: `/payload/${field}`, reason: /date-time/ }]);
      const envelope = catalogueExample(type);
      envelope.timestamp = bad;
      t.notOk(validator.validate(name, envelope).ok, `envelope timestamp = ${bad}`);
    }
  });

  if (produced) {
    t.test(`${type}: when the event carries an unknown field, then it is rejected (produced events are strict)`, async (t) => {
      const inPayload = catalogueExample(type);
      payloadOf(inPayload).user_ip = '203.0.113.7';
      const payloadResult = validator.validate(name, inPayload);
      t.notOk(payloadResult.ok, 'unknown payload field');
      if (!payloadResult.ok) t.match(payloadResult.issues, [{ path: '/payload', reason: 'unknown field "user_ip"' }]);

      const inEnvelope = catalogueExample(type);
      inEnvelope.extra = 1;
      const envelopeResult = validator.validate(name, inEnvelope);
      t.notOk(envelopeResult.ok, 'unknown envelope field');
      if (!envelopeResult.ok) t.match(envelopeResult.issues, [{ path: '', reason: 'unknown field "extra"' }]);

      const inMeta = catalogueExample(type);
      (inMeta.meta as Record<string, unknown>).debug = true;
      t.notOk(validator.validate(name, inMeta).ok, 'unknown meta field');
    });

    t.test(`${type}: when the envelope's type is another event's, then it is rejected`, async (t) => {
      const event = catalogueExample(type);
      event.type = type === 'distribution.created' ? 'distribution.deleted' : 'distribution.created';
      t.notOk(validator.validate(name, event).ok);
    });
  } else {
    t.test(`${type}: when the event carries unknown fields, then it is still accepted (consumed events are lenient)`, async (t) => {
      const event = catalogueExample(type);
      payloadOf(event).new_field_from_a_newer_producer = { any: 'thing' };
      event.trace = 'abc';
      const result = validator.validate(name, event);
      t.same(result.ok ? [] : result.issues, []);
    });
  }
}

t.test('when counting the event schemas, then there are 9 produced and 2 consumed', async (t) => {
  t.equal(PRODUCED_EVENT_TYPES.length, 9);
  t.equal(CONSUMED_EVENT_TYPES.length, 2);
});
