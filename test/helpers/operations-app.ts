/**
 * The operation tests' fixture: the real service (see app.ts) plus what every operation test reads and asserts: a
 * tenant of its own per test (so rows and outbox events of one test never show up in another's queries), the rows
 * and outbox envelopes of a distribution, and the contract checks of a success, a failure and an envelope.
 */
import type { Test } from 'tap';
import { createContractValidator, type ContractValidator, type SchemaName } from '../../src/contracts/index.js';
import type { OutboxRowColumns } from '../../src/persistence/parked-outbox.js';
import { startTestApp, type Reply, type TestApp } from './app.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Content that satisfies the publish requirements (with a title and a description). */
export const SEO_READY = { meta_title: 'Bankwechsel leicht gemacht', meta_description: 'Wie Sie in zehn Minuten die Bank wechseln.', meta_keywords: ['bank'] };

export interface OutboxRow extends OutboxRowColumns {
  envelope: any;
}

export interface OperationsApp {
  call: TestApp['call'];
  db: TestApp['db'];
  validator: ContractValidator;
  /** A tenant of its own for each test. */
  newTenant: () => string;
  /** The outbox events of one distribution (the aggregate of the subject), in the order they were written. */
  outboxOf: (distributionId: string) => Promise<OutboxRow[]>;
  outboxOfTenant: (tenant: string) => Promise<OutboxRow[]>;
  /** `count(*)` of `from <sql>`. */
  countRows: (sql: string, params: unknown[]) => Promise<number>;
  distributionRow: (id: string) => Promise<any>;
  /** Setup: a create (course_1, de unless `body` says otherwise) that must succeed; returns the distribution. */
  create: (t: Test, tenant: string, body: Record<string, unknown>) => Promise<any>;
  /** A distribution that satisfies the publish requirements. */
  createPublishable: (t: Test, tenant: string, body?: Record<string, unknown>) => Promise<any>;
  /** A success: status 200, no error headers, and the body valid against the operation's response schema. */
  assertOk: (t: Test, reply: Reply<any>, operation: string) => void;
  /** A failure: the status in the header and the body's code, the message in the header, the body valid against error. */
  assertFailure: (t: Test, reply: Reply<any>, status: number, code: string, details?: unknown) => void;
  /**
   * An outbox row as the contract wants it: the envelope valid against its event schema, the subject
   * `<type>.<distribution id>`, meta naming the tenant, the correlation id (the request's, else a generated corr_...)
   * and a cmd_... causation id (null for `aggregated` view and click events, which stand for many requests).
   */
  assertEnvelope: (t: Test, row: OutboxRow | undefined, expected: { type: string; tenant: string; subjectId: string; correlationId?: string; aggregated?: boolean }) => void;
  /**
   * Asserts the distribution's outbox holds exactly `types` in that order and that the last one is a valid envelope
   * for it (tenant, subject, correlation); returns that event's payload.
   */
  lastEventPayload: (t: Test, distributionId: string, expected: { types: string[]; tenant: string; correlationId?: string }) => Promise<any>;
}

export async function startOperationsApp(t: Teardown, options: { env?: Record<string, string> } = {}): Promise<OperationsApp> {
  const { call, db } = await startTestApp(t, { env: options.env });
  const validator = createContractValidator();
  let tenantCounter = 0;

  const outboxWhere = async (column: 'aggregate_id' | 'tenant_id', value: string): Promise<OutboxRow[]> => {
    const result = await db.query<OutboxRow>(`select id, event_id, event_type, subject, aggregate_id, tenant_id, envelope from outbox_event where ${column} = $1 order by id`, [
      value,
    ]);
    return result.rows;
  };

  const create = async (t: Test, tenant: string, body: Record<string, unknown>): Promise<any> => {
    const reply = await call(tenant, 'create', { course_id: 'course_1', language: 'de', ...body });
    t.equal(reply.status, 200, `setup: create ${JSON.stringify(body)} (got ${JSON.stringify(reply.body)})`);
    return reply.body;
  };

  const app: OperationsApp = {
    call,
    db,
    validator,
    newTenant: () => `ops_test_${++tenantCounter}`,
    outboxOf: (distributionId) => outboxWhere('aggregate_id', distributionId),
    outboxOfTenant: (tenant) => outboxWhere('tenant_id', tenant),
    async countRows(sql, params) {
      const result = await db.query<{ n: number }>(`select count(*)::int as n from ${sql}`, params);
      return result.rows[0]?.n ?? -1;
    },
    async distributionRow(id) {
      const result = await db.query(
        `select id, tenant_id, slug, title, description, target_group, visibility, version, derived_from, seo, cta,
                view_count::int, enrollment_count::int, row_version, published_at, deleted_at, deleted_by
           from distribution where id = $1`,
        [id],
      );
      return result.rows[0];
    },
    create,
    createPublishable: (t, tenant, body = {}) => create(t, tenant, { title: 'Bankwechsel', description: 'Alles zum Bankwechsel.', seo: SEO_READY, ...body }),
    assertOk(t, reply, operation) {
      t.equal(reply.status, 200, `${operation} succeeds (got ${JSON.stringify(reply.body)})`);
      t.equal(reply.headers['Nats-Service-Error-Code'], undefined, 'a success carries no error code header');
      t.equal(reply.headers['Nats-Service-Error'], undefined, 'a success carries no error header');
      const checked = validator.validate(`op.${operation}.response` as SchemaName, reply.body);
      t.ok(checked.ok, `the reply matches op.${operation}.response`, { issues: checked.ok ? [] : checked.issues });
    },
    assertFailure(t, reply, status, code, details) {
      t.equal(reply.status, status, `status ${status} (got ${JSON.stringify(reply.body)})`);
      t.equal(reply.headers['Nats-Service-Error-Code'], String(status), 'Nats-Service-Error-Code header');
      t.equal(reply.body?.error?.code, code, `code ${code}`);
      t.type(reply.body?.error?.message, 'string');
      t.not(reply.body?.error?.message, '', 'the message is not empty');
      t.equal(reply.headers['Nats-Service-Error'], reply.body?.error?.message, 'Nats-Service-Error header carries the message');
      const checked = validator.validate('error', reply.body);
      t.ok(checked.ok, 'the body matches error.schema.json', { issues: checked.ok ? [] : checked.issues });
      if (details !== undefined) t.strictSame(reply.body.error.details, details, 'details');
    },
    async lastEventPayload(t, distributionId, expected) {
      const outbox = await outboxWhere('aggregate_id', distributionId);
      t.strictSame(
        outbox.map((r) => r.event_type),
        expected.types,
      );
      const last = outbox.at(-1);
      app.assertEnvelope(t, last, { type: expected.types.at(-1) ?? '', tenant: expected.tenant, subjectId: distributionId, correlationId: expected.correlationId });
      return last?.envelope.payload;
    },
    assertEnvelope(t, row, expected) {
      if (!row) {
        t.fail(`expected an outbox row ${expected.type}`);
        return;
      }
      t.equal(row.event_type, expected.type, 'event type');
      const checked = validator.validate(row.event_type as SchemaName, row.envelope);
      t.ok(checked.ok, `the envelope matches ${row.event_type}`, { issues: checked.ok ? [] : checked.issues });
      t.equal(row.envelope.type, expected.type, 'envelope type');
      t.equal(row.envelope.id, row.event_id, 'the envelope id is the stored event id');
      t.match(row.envelope.id, /^evt_[0-9A-Z]{26}$/, 'an evt_ id');
      t.equal(row.subject, `${expected.type}.${expected.subjectId}`, 'subject <type>.<distribution id>');
      t.equal(row.aggregate_id, expected.subjectId, 'aggregate id');
      t.equal(row.tenant_id, expected.tenant, 'outbox row tenant');
      t.equal(row.envelope.meta.tenant_id, expected.tenant, 'meta.tenant_id');
      t.equal(row.envelope.meta.schema_version, '1.0');
      t.equal(row.envelope.meta.producer, 'course_distribution');
      if (expected.correlationId !== undefined) t.equal(row.envelope.meta.correlation_id, expected.correlationId, "meta.correlation_id is the request's");
      else t.match(row.envelope.meta.correlation_id, /^corr_[0-9A-Z]{26}$/, 'meta.correlation_id is a generated corr_ id');
      if (expected.aggregated) t.equal(row.envelope.meta.causation_id, null, 'an aggregate of many requests has no single cause');
      else t.match(row.envelope.meta.causation_id, /^cmd_[0-9A-Z]{26}$/, 'meta.causation_id is a cmd_ id');
    },
  };
  return app;
}
