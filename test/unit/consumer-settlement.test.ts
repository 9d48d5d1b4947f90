/**
 * The consumer's choice for a failed message, as a pure function of (outcome, delivery count, max_deliver).
 */
import t from 'tap';
import { ServiceFailure } from '../../src/errors.js';
import { classify } from '../../src/failure-policy.js';
import { retryDelay, settleFailure } from '../../src/messaging/consumer-settlement.js';

const MAX_DELIVER = 5;
const pgError = (code: string) => Object.assign(new Error(`server error ${code}`), { code });

t.test('when a message is rejected, then it is dead-lettered at its first delivery with the reason', async (t) => {
  const settlement = settleFailure(classify(new ServiceFailure('ILLEGAL_TRANSITION', 'no')), 1, MAX_DELIVER, 'refused: ILLEGAL_TRANSITION: no');
  t.same(settlement, { action: 'dead-letter', reason: 'refused: ILLEGAL_TRANSITION: no' });
});

t.test('when the database is unreachable, then the message is retried and intake pauses', async (t) => {
  for (const code of ['53300', '57014', '57P01', '08006']) {
    t.same(settleFailure(classify(pgError(code)), 1, MAX_DELIVER, 'x'), { action: 'retry', pauseIntake: true }, code);
  }
});

t.test('when a conflict, an overload or an unknown error fails a message, then it is retried without a pause', async (t) => {
  for (const err of [pgError('40001'), new ServiceFailure('OVERLOADED', 'busy'), new ServiceFailure('VERSION_CONFLICT', 'changed'), new Error('boom')]) {
    t.same(settleFailure(classify(err), MAX_DELIVER - 1, MAX_DELIVER, 'x'), { action: 'retry', pauseIntake: false }, err.message);
  }
});

t.test('when a retryable failure meets the last allowed delivery, then it is dead-lettered, saying so', async (t) => {
  t.same(settleFailure(classify(pgError('57P01')), MAX_DELIVER, MAX_DELIVER, 'terminating connection'), {
    action: 'dead-letter',
    reason: `gave up after ${MAX_DELIVER} deliveries: terminating connection`,
  });
  t.equal(settleFailure(classify(new Error('boom')), MAX_DELIVER + 1, MAX_DELIVER, 'boom').action, 'dead-letter', 'also past it');
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
