/**
 * The pull loop against a real durable: a stop or a pause that happens while a (re)subscription is still being
 * made ends the iterator that subscription creates. The subscription is made slow by holding back
 * `js.consumers.get` until the test releases it.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, jetstream, jetstreamManager, type Consumers, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { pino } from 'pino';
import { createIntakePause } from '../../src/messaging/intake-pause.js';
import { createPullLoop } from '../../src/messaging/consumer-pull-loop.js';
import { connectTestNats, deleteStreamQuietly, natsNamespace } from '../helpers/nats.js';
import { resolveNats } from '../helpers/services.js';
import { waitFor } from '../helpers/event-stream.js';

const nc = await connectTestNats(t);
const namespace = natsNamespace();
const streamName = namespace.stream('PULL_LOOP');
const durableName = 'pull_loop_test';
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: streamName, subjects: [namespace.subject('pull.>')] });
await jsm.consumers.add(streamName, { durable_name: durableName, ack_policy: AckPolicy.Explicit });
t.teardown(async () => deleteStreamQuietly((await resolveNats()).url, streamName));
const log = pino({ level: 'silent' });
const options = { streamName, durableName, maxAckPending: 10, concurrency: 4, retryBaseMs: 50, retryMaxMs: 200 };

/** `js` whose `consumers.get` waits until `release()`: the (re)subscription is pending until then. */
function slowSubscription(): { js: JetStreamClient; release: () => void; requested: Promise<void> } {
  const js = jetstream(nc);
  let release!: () => void;
  let requested!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const asked = new Promise<void>((resolve) => (requested = resolve));
  const consumers = {
    get: async (stream: string, name: string) => {
      requested();
      await gate;
      return js.consumers.get(stream, name);
    },
  } as unknown as Consumers;
  return { js: new Proxy(js, { get: (target, prop) => (prop === 'consumers' ? consumers : Reflect.get(target, prop)) }), release, requested: asked };
}

const within = <T>(ms: number, promise: Promise<T>) => Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

t.test('when stop() is called while the subscription is being made, then stop() resolves and nothing is pulled', async (t) => {
  await jetstream(nc).publish(namespace.subject('pull.stop'), 'one');
  const { js, release, requested } = slowSubscription();
  const settled: JsMsg[] = [];
  const stopped = new AbortController();
  const pause = createIntakePause({ probe: async () => undefined, retryBaseMs: 50, retryMaxMs: 200, onPause: () => loop.interrupt(), signal: stopped.signal, log });
  const loop = createPullLoop(js, options, { settle: async (m) => void (settled.push(m), m.ack()), pause, signal: stopped.signal, log });
  loop.start();
  await requested;
  stopped.abort();
  const stopping = loop.stop();
  release();
  t.ok(await within(3000, stopping), 'stop() resolves within 3 s');
  t.equal(settled.length, 0, 'no message taken in hand after the stop');
  t.notOk(loop.pulling, 'not pulling');
});

t.test('when intake pauses while the subscription is being made, then nothing is pulled until the pause ends', async (t) => {
  const { js, release, requested } = slowSubscription();
  const settled: string[] = [];
  const stopped = new AbortController();
  let databaseDown = true;
  const probe = async () => {
    if (databaseDown) throw new Error('database down');
  };
  const pause = createIntakePause({ probe, retryBaseMs: 50, retryMaxMs: 200, onPause: () => loop.interrupt(), signal: stopped.signal, log });
  const loop = createPullLoop(js, options, { settle: async (m) => void (settled.push(m.string()), m.ack()), pause, signal: stopped.signal, log });
  t.teardown(async () => {
    stopped.abort();
    release();
    await loop.stop();
  });
  loop.start();
  await requested;
  pause.pause();
  release();
  await jetstream(nc).publish(namespace.subject('pull.pause'), 'during the pause');
  await sleep(1500);
  t.same(settled, [], 'nothing pulled while paused');
  t.notOk(loop.pulling, 'not pulling while paused');

  databaseDown = false;
  await waitFor('pulled after the pause', () => settled.includes('during the pause'), 5000);
  t.ok(loop.pulling, 'pulling again');
});
