/**
 * What `flush()` waits for: a pass that started after the call and found nothing left to publish. Such a pass read
 * every row committed before the call, so those are all published (and marked) when it reports drained.
 */

/** The relay's passes as flush sees them: the leader loop reports each pass and each loss of the lock. */
export interface DrainWaiters {
  /** Call when a pass starts; returns its number, for `passDrained`. */
  passStarted(): number;
  /** Pass number `passIndex` found everything published: flushes that began before it resolve true. */
  passDrained(passIndex: number): void;
  /** This relay stopped being active: every waiting flush resolves false (another relay publishes now). */
  relayInactive(): void;
  /** Resolves true once a pass that starts after this call is drained, false on `relayInactive` or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<boolean>;
}

export function createDrainWaiters(): DrainWaiters {
  /** Passes started so far: a flush waits for a pass numbered above the count when it began. */
  let passesStarted = 0;
  const waiters: Array<{ afterPass: number; resolve: (drained: boolean) => void }> = [];

  function settle(drained: boolean, passIndex: number): void {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i]!;
      if (!drained || passIndex > waiter.afterPass) {
        waiters.splice(i, 1);
        waiter.resolve(drained);
      }
    }
  }

  return {
    passStarted: () => ++passesStarted,
    passDrained: (passIndex) => settle(true, passIndex),
    relayInactive: () => settle(false, Infinity),
    wait(timeoutMs) {
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          resolve(false);
        }, timeoutMs);
        const waiter = {
          afterPass: passesStarted,
          resolve: (drained: boolean) => {
            clearTimeout(timer);
            resolve(drained);
          },
        };
        waiters.push(waiter);
      });
    },
  };
}
