/**
 * schemas/asyncapi.yaml describes the whole NATS contract of docs/CONTRACT.md in AsyncAPI 3.0.0; its payloads are
 * relative $refs to the JSON Schema files next to it. These tests parse it with @asyncapi/parser and check that it
 * names every subject, stream and consumer, and that every payload is the schema file it claims to be.
 */
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import type { AsyncAPIDocumentInterface, Diagnostic, MessageInterface } from '@asyncapi/parser';
import { parse as parseYaml } from 'yaml';
import { CONSUMED_EVENT_TYPES, OPERATIONS, PRODUCED_EVENT_TYPES } from '../../src/contracts/event-types.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SCHEMAS_DIR = resolve(ROOT, 'schemas');
const ASYNCAPI_PATH = resolve(SCHEMAS_DIR, 'asyncapi.yaml');

const packageVersion = (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface SchemaFile {
  title?: string;
  $id?: string;
}

function schemaFile(name: string): SchemaFile {
  return JSON.parse(readFileSync(resolve(SCHEMAS_DIR, `${name}.schema.json`), 'utf8')) as SchemaFile;
}

function formatDiagnostic(d: Diagnostic): string {
  return `[${d.severity}] ${String(d.code)} at /${d.path.join('/')}: ${d.message}`;
}

/** Parses the document once; `source` makes the parser resolve the relative file $refs next to the document. */
async function parseAsyncApi(): Promise<{ document: AsyncAPIDocumentInterface | undefined; diagnostics: Diagnostic[] }> {
  const parser = new Parser();
  return parser.parse(readFileSync(ASYNCAPI_PATH, 'utf8'), { source: ASYNCAPI_PATH });
}

const parsed = parseAsyncApi();

async function parsedDocument(): Promise<AsyncAPIDocumentInterface> {
  const { document, diagnostics } = await parsed;
  if (!document) throw new Error(`asyncapi.yaml did not parse:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
  return document;
}

function channelByAddress(document: AsyncAPIDocumentInterface, address: string) {
  return document
    .channels()
    .all()
    .find((c) => c.address() === address);
}

function extension(owner: { extensions(): { get(id: string): { value(): unknown } | undefined } }, name: string) {
  return owner.extensions().get(name)?.value() as Record<string, unknown> | undefined;
}

function payloadIdentity(message: MessageInterface | undefined): { title?: string; $id?: string } {
  const payload = message?.payload();
  return { title: payload?.title(), $id: payload?.$id() };
}

function fileIdentity(name: string): { title?: string; $id?: string } {
  const { title, $id } = schemaFile(name);
  return { title, $id };
}

t.test("when parsed with @asyncapi/parser, then there are no error diagnostics and the version is package.json's", async (t) => {
  const { document, diagnostics } = await parsed;
  const errors = diagnostics.filter((d) => Number(d.severity) === Number(DiagnosticSeverity.Error)).map(formatDiagnostic);
  t.same(errors, [], `no error diagnostics; all diagnostics:\n${diagnostics.map(formatDiagnostic).join('\n')}`);
  t.ok(document, 'a document came out');
  if (!document) return;
  t.equal(document.version(), '3.0.0');
  t.equal(document.info().title(), 'course-distribution');
  t.equal(document.info().version(), packageVersion, 'info.version = package.json version');
  t.match(extension(document.info(), 'x-nats-service'), {
    name: 'course_distribution',
    protocol: 'io.nats.micro.v1',
    version: packageVersion,
  });
});

t.test('when scanning its $refs, then each one is local: in the document or a relative file in schemas/', async (t) => {
  const refs: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') refs.push(value);
        else walk(value);
      }
    }
  };
  walk(parseYaml(readFileSync(ASYNCAPI_PATH, 'utf8')));
  t.ok(refs.length > 0);
  for (const ref of refs) {
    if (ref.startsWith('#/')) continue;
    t.match(ref, /^\.\/[\w.-]+\.schema\.json$/, `${ref} is a relative schema file`);
    const file = ref.split('#')[0] ?? '';
    t.ok(existsSync(resolve(dirname(ASYNCAPI_PATH), file)), `${ref} exists`);
  }
});

t.test('when listing its channels, then every subject, stream and consumer of docs/CONTRACT.md is there', async (t) => {
  const document = await parsedDocument();
  const addresses = document
    .channels()
    .all()
    .map((c) => c.address());

  for (const op of OPERATIONS) {
    const address = `course_distribution.{tenant_id}.${op}`;
    t.ok(addresses.includes(address), `command channel ${address}`);
    const channel = channelByAddress(document, address);
    t.ok(channel?.parameters().get('tenant_id'), `${address} has the tenant_id parameter`);
    const operations = channel?.operations().all() ?? [];
    t.equal(operations.length, 1, `${address} has one operation`);
    const operation = operations[0];
    t.ok(operation?.isReceive(), `${address}: the service receives the request`);
    t.ok(operation?.reply(), `${address}: the operation replies`);
  }

  for (const type of PRODUCED_EVENT_TYPES) {
    const address = `${type}.{distribution_id}`;
    t.ok(addresses.includes(address), `event channel ${address}`);
    const channel = channelByAddress(document, address);
    t.ok(channel?.parameters().get('distribution_id'), `${address} has the distribution_id parameter`);
    t.match(channel && extension(channel, 'x-jetstream'), { stream: 'DISTRIBUTION', subjects: ['distribution.>'] });
    const operations = channel?.operations().all() ?? [];
    t.ok(operations.length === 1 && operations[0]?.isSend(), `${address}: the service sends`);
    const operation = operations[0];
    t.match(operation && extension(operation, 'x-jetstream'), { stream: 'DISTRIBUTION' });
  }

  for (const type of CONSUMED_EVENT_TYPES) {
    t.ok(addresses.includes(type), `consumed channel ${type}`);
    const channel = channelByAddress(document, type);
    t.match(channel?.description(), `${type}.>`, `${type}: the description names the trailing-token filter`);
    const consumed = { stream: 'COURSE', subjects: ['course.>'], owner: 'CourseFactory', durable_consumer: 'distribution_consumer' };
    t.match(channel && extension(channel, 'x-jetstream'), consumed);
    const operations = channel?.operations().all() ?? [];
    t.ok(operations.length === 1 && operations[0]?.isReceive(), `${type}: the service receives`);
    const operation = operations[0];
    t.match(operation && extension(operation, 'x-jetstream'), consumed);
  }

  const streams = new Set<unknown>();
  const consumers = new Set<unknown>();
  for (const owner of [...document.channels().all(), ...document.operations().all()]) {
    const js = extension(owner, 'x-jetstream');
    if (js) {
      streams.add(js.stream);
      consumers.add(js.durable_consumer);
    }
  }
  t.same([...streams].sort(), ['COURSE', 'DISTRIBUTION'], 'streams in x-jetstream');
  t.ok(consumers.has('distribution_consumer'), 'consumer distribution_consumer in x-jetstream');

  const expected = OPERATIONS.length * 2 + PRODUCED_EVENT_TYPES.length + CONSUMED_EVENT_TYPES.length;
  t.equal(addresses.length, expected, 'no other channels: command, reply (address null), event, consumed');
});

t.test('when checking payloads, then each one is the schema file of its event or operation', async (t) => {
  const document = await parsedDocument();

  for (const type of [...PRODUCED_EVENT_TYPES, ...CONSUMED_EVENT_TYPES]) {
    const address = (PRODUCED_EVENT_TYPES as readonly string[]).includes(type) ? `${type}.{distribution_id}` : type;
    const messages = channelByAddress(document, address)?.messages().all() ?? [];
    t.equal(messages.length, 1, `${address} carries one message`);
    t.same(payloadIdentity(messages[0]), fileIdentity(type), `${address} payload is ${type}.schema.json`);
  }

  for (const type of PRODUCED_EVENT_TYPES) {
    const message = channelByAddress(document, `${type}.{distribution_id}`)?.messages().all()[0];
    const headers = message?.headers()?.properties() ?? {};
    for (const name of ['Nats-Msg-Id', 'Content-Type', 'ce-specversion', 'ce-id', 'ce-type', 'ce-source', 'ce-time', 'ce-subject']) {
      t.ok(headers[name], `${type} documents the header ${name}`);
    }
  }

  const error = fileIdentity('error');
  for (const op of OPERATIONS) {
    const address = `course_distribution.{tenant_id}.${op}`;
    const operation = channelByAddress(document, address)?.operations().all()[0];
    const requests = operation?.messages().all() ?? [];
    t.equal(requests.length, 1, `${op} takes one request message`);
    t.same(payloadIdentity(requests[0]), fileIdentity(`op.${op}.request`), `${op} request is op.${op}.request`);

    const reply = operation?.reply();
    t.ok(reply?.channel(), `${op} has a reply channel`);
    t.equal(reply?.channel()?.address(), null, `${op} replies to the dynamic reply subject`);
    const replies = reply?.messages().all() ?? [];
    const identities = replies.map(payloadIdentity);
    t.same(identities, [fileIdentity(`op.${op}.response`), error], `${op} replies op.${op}.response or the error`);
    const errorMessage = replies.find((m) => payloadIdentity(m).title === error.title);
    const errorHeaders = errorMessage?.headers()?.properties() ?? {};
    t.ok(errorHeaders['Nats-Service-Error-Code'], `${op} error reply has Nats-Service-Error-Code`);
    t.ok(errorHeaders['Nats-Service-Error'], `${op} error reply has Nats-Service-Error`);
  }
});
