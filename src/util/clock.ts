/**
 * Source of time. Backends and the runtime take one so that tests can drive
 * lock expiry and timers with a simulated clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds, or rejects with the signal's reason when
   * it fires first. Any duration works, including years.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Longest delay `setTimeout` accepts without firing at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Sleeps on real time, in chunks of at most 2^31-1 ms, so far deadlines never fire early. */
export function sleepUntil(
  deadline: number,
  now: () => number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      if (timer) clearTimeout(timer);
      reject(signal?.reason);
    };
    const step = (): void => {
      const left = deadline - now();
      if (left <= 0) {
        signal?.removeEventListener('abort', onAbort);
        resolve();
        return;
      }
      timer = setTimeout(step, Math.min(left, MAX_TIMEOUT_MS));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    step();
  });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepUntil(Date.now() + ms, () => Date.now(), signal),
};
