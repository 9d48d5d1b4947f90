/**
 * `npm run demo` (text for a terminal) and `npm run demo -- --json` (one JSON document on stdout): plays the demo
 * scenario (scenario.ts) against the running service, found by asking `ops.health` under NATS_SUBJECT_PREFIX on
 * NATS_URL; when none answers, it starts one in this process the way `npm start` would (the embedded database when
 * DATABASE_URL is unset, a development nats-server when NATS_URL is unset) and stops it at the end. The service's
 * logs go to stderr at warn level, so stdout carries only the demo. Exit code 0 when every step did what it
 * should, 1 otherwise (the reason on stderr).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { createApp } from '../app.js';
import { loadConfigOrExit, type Config } from '../config.js';
import { startLocalServices } from '../embedded/local-services.js';
import { redactUrls } from '../logger.js';
import { createDemoClient, serviceAnswers } from './demo-client.js';
import { openEventTap } from './event-tap.js';
import { renderJson, renderText } from './report.js';
import { DEMO_TENANT, playScenario } from './scenario.js';

const asJson = process.argv.includes('--json');

const config: Config = loadConfigOrExit();
const log = pino({ name: 'course-distribution', level: 'warn', base: { service: 'course_distribution' } }, pino.destination(2));

/** One connection attempt, no reconnecting: undefined when no NATS answers there. */
async function connectOnce(nats: Config['nats']): Promise<NatsConnection | undefined> {
  const servers = nats.url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return connect({ servers, user: nats.user, pass: nats.password, inboxPrefix: nats.inboxPrefix, reconnect: false, timeout: 2000 }).catch(() => undefined);
}

let nc = await connectOnce(config.nats);
let where: string;
let stopService: (() => Promise<void>) | undefined;
if (nc && (await serviceAnswers(nc, config.nats.subjectPrefix))) {
  where = `the service answering on ${redactUrls(config.nats.url)}`;
} else {
  await nc?.close();
  try {
    const local = await startLocalServices(config, log);
    const app = await createApp(local.config, { log });
    stopService = async () => {
      await app.stop();
      await local.stop();
    };
    await app.start();
    nc = await connectOnce(local.config.nats);
    if (!nc) throw new Error(`NATS at ${redactUrls(local.config.nats.url)} stopped answering`);
    where = local.database ? `a service started for the demo, on the embedded database in ${local.database.dataDir}` : 'a service started for the demo';
  } catch (err) {
    process.stderr.write(`\nCould not start a service for the demo: ${(err as Error).message}\n\n`);
    await stopService?.().catch(() => undefined);
    process.exit(1);
  }
}

let exitCode = 0;
try {
  const tap = await openEventTap(nc, config.stream.name);
  const result = await playScenario(createDemoClient(nc, config, DEMO_TENANT), tap);
  process.stdout.write(asJson ? renderJson(result, where) : renderText(result, where));
} catch (err) {
  process.stderr.write(`\nThe demo failed: ${(err as Error).message}\n\n`);
  exitCode = 1;
} finally {
  await nc.close();
  await stopService?.();
}
process.exit(exitCode);
