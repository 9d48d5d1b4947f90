/**
 * A level-triggered wake-up: `notify()` before or during `wait()` makes the next `wait()` return at once, so a
 * commit that lands while the relay is busy is never missed; `wait(ms)` otherwise returns after `ms` (the poll).
 */
export interface WakeSignal {
  notify(): void;
  /** Resolves true when notified, false on timeout. */
  wait(ms: number): Promise<boolean>;
}

export function createWakeSignal(): WakeSignal {
  let pending = false;
  let wake: (() => void) | undefined;
  return {
    notify() {
      pending = true;
      wake?.();
    },
    wait(ms) {
      if (pending) {
        pending = false;
        return Promise.resolve(true);
      }
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          wake = undefined;
          resolve(false);
        }, ms);
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          pending = false;
          resolve(true);
        };
      });
    },
  };
}
