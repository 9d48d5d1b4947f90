/**
 * The consumer's choice for a failed message, as a pure function of (outcome, delivery count, delivery limits).
 */
import t from 'tap';
import { ServiceFailure } from '../../src/errors.js';
import { classify } from '../../src/failure-policy.js';
import { deadLetterDelivery, retryDelay, settleFailure } from '../../src/messaging/consumer-settlement.js';

const MAX_DELIVER = 5;
/** The durable we create: no server limit, the service's is the one. */
const LIMITS = { maxDeliver: MAX_DELIVER, serverMaxDeliver: -1 };
const pgError = (code: string) => Object.assign(new Error(`server error ${code}`), { code });

t.test('when a message is rejected, then it is dead-lettered at its first delivery with the reason', async (t) => {
  const settlement = settleFailure(classify(new ServiceFailure('ILLEGAL_TRANSITION', 'no')), 1, LIMITS, 'refused: ILLEGAL_TRANSITION: no');
  t.same(settlement, { action: 'dead-letter', reason: 'refused: ILLEGAL_TRANSITION: no', lastDelivery: false });
});

t.test('when the database is unreachable, then the message is retried and intake pauses', async (t) => {
  for (const code of ['53300', '53100', '57014', '57P01', '08006', '25006']) {
    t.same(settleFailure(classify(pgError(code)), 1, LIMITS, 'x'), { action: 'retry', pauseIntake: true }, code);
  }
});

t.test('when a conflict, an overload or an unknown error fails a message, then it is retried without a pause', async (t) => {
  for (const err of [pgError('40001'), new ServiceFailure('OVERLOADED', 'busy'), new ServiceFailure('VERSION_CONFLICT', 'changed'), new Error('boom')]) {
    t.same(settleFailure(classify(err), MAX_DELIVER - 1, LIMITS, 'x'), { action: 'retry', pauseIntake: false }, err.message);
  }
});

t.test('when a retryable failure meets the last allowed delivery, then it is dead-lettered, saying so', async (t) => {
  t.same(settleFailure(classify(pgError('57P01')), MAX_DELIVER, LIMITS, 'terminating connection'), {
    action: 'dead-letter',
    reason: `gave up after ${MAX_DELIVER} deliveries: terminating connection`,
    lastDelivery: false,
  });
  t.equal(settleFailure(classify(new Error('boom')), MAX_DELIVER + 1, LIMITS, 'boom').action, 'dead-letter', 'also past it (its dead letter could not be stored before)');
});

t.test('when the durable has no server limit, then no delivery is the server’s last: a dead letter not stored can wait for the next', async (t) => {
  t.equal(deadLetterDelivery(LIMITS), MAX_DELIVER);
  for (const deliveryCount of [MAX_DELIVER, MAX_DELIVER + 100]) {
    t.same(settleFailure(classify(new Error('boom')), deliveryCount, LIMITS, 'boom'), {
      action: 'dead-letter',
      reason: `gave up after ${deliveryCount} deliveries: boom`,
      lastDelivery: false,
    });
  }
});

t.test('when the durable’s max_deliver is below the service’s limit, then the server’s last delivery dead-letters and is marked last', async (t) => {
  const limits = { maxDeliver: MAX_DELIVER, serverMaxDeliver: 2 };
  t.equal(deadLetterDelivery(limits), 2);
  t.same(settleFailure(classify(new Error('boom')), 1, limits, 'boom'), { action: 'retry', pauseIntake: false });
  t.same(settleFailure(classify(new Error('boom')), 2, limits, 'boom'), { action: 'dead-letter', reason: 'gave up after 2 deliveries: boom', lastDelivery: true });
  t.same(
    settleFailure(classify(new ServiceFailure('NOT_FOUND', 'gone')), 2, limits, 'gone'),
    { action: 'dead-letter', reason: 'gone', lastDelivery: true },
    'a rejection on it too',
  );
});

t.test('when the durable keeps deliveries in reserve, then the service’s limit dead-letters and the reserve follows it', async (t) => {
  const limits = { maxDeliver: MAX_DELIVER, serverMaxDeliver: MAX_DELIVER + 3 };
  t.equal(deadLetterDelivery(limits), MAX_DELIVER);
  t.equal(settleFailure(classify(new Error('boom')), MAX_DELIVER, limits, 'boom').action, 'dead-letter');
  t.notOk((settleFailure(classify(new Error('boom')), MAX_DELIVER + 2, limits, 'boom') as { lastDelivery: boolean }).lastDelivery, 'a reserve delivery is not the last');
  t.ok((settleFailure(classify(new Error('boom')), MAX_DELIVER + 3, limits, 'boom') as { lastDelivery: boolean }).lastDelivery, 'the server’s last is');
});

t.test('when retries are delayed, then the delay doubles per delivery up to the cap, with +-20 % jitter', async (t) => {
  const settings = { retryBaseMs: 100, retryMaxMs: 1000 };
  const noJitter = () => 0.5;
  t.same(
    [1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, settings, noJitter)),
    [100, 200, 400, 800, 1000, 1000],
  );
  t.equal(
    retryDelay(1, settings, () => 0),
    80,
  );
  t.equal(
    retryDelay(1, settings, () => 0.999999),
    120,
  );
});
