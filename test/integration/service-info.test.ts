import t from 'tap';
import { Svcm } from '@nats-io/services';
import { OPERATIONS } from '../../src/contracts/event-types.js';
import { schemaIds } from '../../generated/schemas.js';
import { PACKAGE_VERSION } from '../../src/version.js';
import { startTestApp } from '../helpers/app.js';

const { nc, namespace } = await startTestApp(t);

t.test('when $SRV.INFO is asked, then our instance lists every operation with its request and response schema', async (t) => {
  const infos = [];
  for await (const info of await new Svcm(nc).client().info('course_distribution')) infos.push(info);
  const ours = infos.find((i) => i.endpoints.some((e) => e.subject.startsWith(`${namespace.id}.`)));
  t.ok(ours, 'this test app answered');
  if (!ours) return;
  t.equal(ours.version, PACKAGE_VERSION, 'version = package.json version');
  const tenantEndpoints = ours.endpoints.filter((e) => !e.name.startsWith('ops_'));
  t.same(tenantEndpoints.map((e) => e.name).sort(), [...OPERATIONS].sort());
  t.same(
    ours.endpoints
      .filter((e) => e.name.startsWith('ops_'))
      .map((e) => e.subject)
      .sort(),
    ['dead_letter', 'dead_letters', 'health', `health.${ours.id}`, 'outbox_discard', 'outbox_parked', 'outbox_retry', 'replay_dead_letter', 'status', `status.${ours.id}`]
      .map((op) => `${namespace.id}.course_distribution.ops.${op}`)
      .sort(),
    'operator endpoints under course_distribution.ops.',
  );
  for (const endpoint of tenantEndpoints) {
    const operation = endpoint.name as (typeof OPERATIONS)[number];
    t.equal(endpoint.subject, `${namespace.id}.course_distribution.*.${operation}`);
    t.same(endpoint.metadata, {
      request_schema: schemaIds[`op.${operation}.request`],
      response_schema: schemaIds[`op.${operation}.response`],
      error_schema: schemaIds.error,
    });
  }
});

t.test('when $SRV.PING is asked, then the service answers by name', async (t) => {
  const pings = [];
  for await (const ping of await new Svcm(nc).client().ping('course_distribution')) pings.push(ping);
  t.ok(pings.length >= 1);
  t.ok(pings.every((p) => p.name === 'course_distribution'));
});
