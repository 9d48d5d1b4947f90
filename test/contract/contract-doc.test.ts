/**
 * docs/CONTRACT.md is what other teams read: its names, operations, events and error codes must be the code's.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { CONSUMED_EVENT_TYPES, OPERATIONS, PRODUCED_EVENT_TYPES } from '../../src/contracts/event-types.js';
import { STATUS_OF_CODE } from '../../src/errors.js';
import { OPS_TOKEN, SERVICE_NAME, TENANT_ID_PATTERN } from '../../src/messaging/subjects.js';

const doc = readFileSync(new URL('../../docs/CONTRACT.md', import.meta.url), 'utf8');
const config = loadConfig({});

t.test('when the contract names the NATS names, then they are the ones the service uses by default', async (t) => {
  t.match(doc, `\`${SERVICE_NAME}.<tenant_id>.<operation>\``);
  t.match(doc, `\`${SERVICE_NAME}.${OPS_TOKEN}.<operation>\``);
  t.match(doc, `stream \`${config.stream.name}\``);
  t.match(doc, `stream \`${config.consumer.streamName}\``);
  t.match(doc, `durable consumer \`${config.consumer.durableName}\``);
  t.match(doc, `\`${TENANT_ID_PATTERN.source}\``);
});

t.test('when the contract lists the operations, then it lists exactly the service operations', async (t) => {
  const line = /- Operations: ([^.]+)\./s.exec(doc)?.[1] ?? '';
  const listed = [...line.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
  t.same(listed, [...OPERATIONS]);
});

t.test('when the contract lists the events, then it lists exactly the produced and consumed types', async (t) => {
  const listed = (label: string) => [...(new RegExp(`- ${label} \\(\\d+\\): ([^\\n]+(?:\\n  [^\\n]+)*)`).exec(doc)?.[1] ?? '').matchAll(/`([a-z_.]+)`/g)].map((m) => m[1]);
  t.same(listed('Produced'), [...PRODUCED_EVENT_TYPES]);
  t.same(listed('Consumed'), [...CONSUMED_EVENT_TYPES]);
});

t.test('when the contract tables the error codes, then each code has the status the service replies with', async (t) => {
  const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
  t.same(Object.fromEntries(rows), STATUS_OF_CODE);
});
