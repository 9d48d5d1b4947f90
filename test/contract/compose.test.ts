import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

// compose.yaml cannot run where there is no Docker engine; these checks keep it true to the code and nats.conf.
const root = resolve(import.meta.dirname, '../..');
const compose = parse(readFileSync(resolve(root, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    { environment?: Record<string, string>; command?: string[] | string; volumes?: string[]; depends_on?: object; healthcheck?: { test?: string[] }; stop_grace_period?: string }
  >;
};
const natsConf = readFileSync(resolve(root, 'nats.conf'), 'utf8');

t.test('when compose.yaml is read, then it runs PostgreSQL, NATS with nats.conf, the COURSE stream and two service instances', async (t) => {
  t.same(Object.keys(compose.services).sort(), ['course-distribution-1', 'course-distribution-2', 'course-stream', 'nats', 'postgres']);
  t.ok(
    compose.services.nats?.volumes?.some((v) => v.startsWith('./nats.conf:')),
    'NATS runs the project nats.conf',
  );
  t.same(compose.services.nats?.command, ['-c', '/etc/nats/nats.conf']);
});

t.test('when the service environment is loaded, then every key is a valid configuration of this code', async (t) => {
  for (const name of ['course-distribution-1', 'course-distribution-2']) {
    const env = Object.fromEntries(Object.entries(compose.services[name]?.environment ?? {}).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
    const config = loadConfig(env);
    t.equal(config.nats.user, 'course_distribution', `${name} connects as the service user`);
    t.match(config.databaseUrl, /@postgres:5432\//);
  }
});

t.test('when the service healthcheck is read, then it asks /readyz on OPS_HTTP_PORT and the stop has its SHUTDOWN_TIMEOUT_MS', async (t) => {
  for (const name of ['course-distribution-1', 'course-distribution-2']) {
    const service = compose.services[name]!;
    const config = loadConfig(Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)])));
    t.ok(config.lifecycle.opsHttpPort, `${name} serves the probes`);
    t.match(service.healthcheck?.test?.join(' '), `http://127.0.0.1:${config.lifecycle.opsHttpPort}/readyz`, 'the healthcheck asks readiness on that port');
    t.ok(Number.parseInt(service.stop_grace_period ?? '0', 10) * 1000 > config.lifecycle.shutdownTimeoutMs, 'the grace period outlasts the stop deadline');
  }
});

t.test('when nats.conf is read, then every password it expects is provided by compose.yaml', async (t) => {
  const expected = [...natsConf.matchAll(/password: \$([A-Z_]+)/g)].map((m) => m[1]!);
  t.ok(expected.length >= 5);
  const provided = Object.keys(compose.services.nats?.environment ?? {});
  t.same(provided.sort(), [...expected].sort());
});
