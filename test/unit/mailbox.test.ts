import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMailbox } from '../../src/application/mailbox.js';
import { ServiceFailure } from '../../src/errors.js';

t.test('when work for one key arrives together, then it runs one at a time in arrival order', async (t) => {
  const mailbox = createMailbox({ maxPending: 100 });
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const work = (name: string, ms: number) => async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    log.push(`start ${name}`);
    await sleep(ms);
    log.push(`end ${name}`);
    running--;
    return name;
  };
  const results = await Promise.all([mailbox.run('a', work('1', 20)), mailbox.run('a', work('2', 1)), mailbox.run('a', work('3', 5))]);
  t.same(results, ['1', '2', '3']);
  t.equal(maxRunning, 1);
  t.same(log, ['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
});

t.test('when work for different keys arrives together, then it runs concurrently', async (t) => {
  const mailbox = createMailbox({ maxPending: 100 });
  let running = 0;
  let maxRunning = 0;
  const work = async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await sleep(20);
    running--;
  };
  await Promise.all(['a', 'b', 'c'].map((key) => mailbox.run(key, work)));
  t.equal(maxRunning, 3);
});

t.test('when an item fails, then the next item of the same key still runs', async (t) => {
  const mailbox = createMailbox({ maxPending: 100 });
  const failed = mailbox.run('a', async () => {
    throw new Error('boom');
  });
  const next = mailbox.run('a', async () => 'next');
  await t.rejects(failed, /boom/);
  t.equal(await next, 'next');
  t.equal(mailbox.pending, 0);
});

t.test('when more than maxPending items are waiting, then the next one is refused with OVERLOADED at once', async (t) => {
  const mailbox = createMailbox({ maxPending: 2 });
  const slow = () => sleep(30);
  const accepted = [mailbox.run('a', slow), mailbox.run('b', slow)];
  const refused = mailbox.run('c', slow).catch((err: unknown) => err);
  const err = await refused;
  t.ok(err instanceof ServiceFailure && err.code === 'OVERLOADED' && err.status === 503, 'OVERLOADED, 503');
  await Promise.all(accepted);
  await mailbox.run('c', slow);
  t.pass('accepted again once the queue drained');
});

t.test('when stopped, then accepted work finishes and new work is refused with SHUTTING_DOWN', async (t) => {
  const mailbox = createMailbox({ maxPending: 10 });
  let finished = false;
  const inFlight = mailbox.run('a', async () => {
    await sleep(20);
    finished = true;
  });
  const stopped = mailbox.stop();
  const err = await mailbox.run('b', async () => undefined).catch((e: unknown) => e);
  t.ok(err instanceof ServiceFailure && err.code === 'SHUTTING_DOWN');
  await stopped;
  t.ok(finished, 'stop() resolved after the accepted work finished');
  await inFlight;
});

t.test('when work holds several keys, then it waits for each key and single-key work waits for it', async (t) => {
  const mailbox = createMailbox({ maxPending: 100 });
  const log: string[] = [];
  const step = (name: string, ms: number) => async () => {
    log.push(`start ${name}`);
    await sleep(ms);
    log.push(`end ${name}`);
  };
  await Promise.all([mailbox.run('b', step('b1', 20)), mailbox.runAll(['b', 'a'], step('ab', 5)), mailbox.run('a', step('a2', 1))]);
  t.same(log.slice(0, 2), ['start b1', 'end b1'], 'the multi-key item waited for b');
  t.ok(log.indexOf('end ab') < log.indexOf('start a2'), 'a2 waited for the multi-key item holding a');
  t.equal(mailbox.pending, 0);
});

t.test('when stop() is called twice while work is in flight, then both calls resolve once it finished', async (t) => {
  const mailbox = createMailbox({ maxPending: 10 });
  const work = { done: false };
  const inFlight = mailbox.run('a', () => sleep(20).then(() => (work.done = true)));
  const bothStops = Promise.all([mailbox.stop(), mailbox.stop()]);
  t.equal(await Promise.race([bothStops.then(() => 'both resolved'), sleep(2000).then(() => 'still waiting')]), 'both resolved');
  t.ok(work.done, 'after the accepted work finished');
  await inFlight;
});
