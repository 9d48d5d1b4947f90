/**
 * NATS_URL may list several servers, comma-separated: the service connects, and its log names the servers
 * (passwords masked), never "unparseable".
 */
import t from 'tap';
import { redactUrls } from '../../src/logger.js';
import { startTestApp } from '../helpers/app.js';
import { captureLog } from '../helpers/log-capture.js';
import { resolveNats } from '../helpers/services.js';

t.test('when NATS_URL lists two servers, then the service starts and logs both', async (t) => {
  const nats = await resolveNats();
  const second = new URL(nats.url);
  second.hostname = 'localhost';
  const list = `${nats.url},${second.toString()}`;
  const captured = captureLog('info');
  const { call } = await startTestApp(t, { env: { NATS_URL: list }, overrides: { log: captured.log } });
  t.equal((await call('acme', 'list', {})).status, 200, 'serves requests');
  const serving = captured.lines().find((line) => line.msg === 'serving requests');
  t.equal(serving?.nats, redactUrls(list));
  t.notMatch(JSON.stringify(captured.lines()), /unparseable/);
});

t.test('when URLs carry passwords, then the logged form masks each and keeps the rest', async (t) => {
  t.equal(redactUrls('nats://svc:secret@a:4222,nats://b:4222'), 'nats://svc:***@a:4222,nats://b:4222');
  t.equal(redactUrls('postgresql://app:pw@db:5432/x'), 'postgresql://app:***@db:5432/x');
  t.equal(redactUrls('127.0.0.1:4222'), '127.0.0.1:4222', 'a bare host:port');
  t.equal(redactUrls('::not a url::'), '(not a URL)', 'never echoed');
});
