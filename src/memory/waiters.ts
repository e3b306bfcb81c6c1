import type { Clock } from '../util/clock.ts';

interface Waiter<T> {
  settle(value: T | null): void;
}

/**
 * Callers waiting for a value (a work item), served first come first served.
 * Each wait ends with a value, or null on timeout, abort or `cancelAll`;
 * every path detaches its listeners and its timer.
 */
export class WaitList<T> {
  private readonly list: Waiter<T>[] = [];

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.list.length;
  }

  wait(timeoutMs: number, signal?: AbortSignal): Promise<T | null> {
    if (signal?.aborted) return Promise.resolve(null);
    return new Promise<T | null>((resolve) => {
      const timer = new AbortController();
      let done = false;
      const onAbort = (): void => waiter.settle(null);
      const waiter: Waiter<T> = {
        settle: (value) => {
          if (done) return;
          done = true;
          const i = this.list.indexOf(waiter);
          if (i >= 0) this.list.splice(i, 1);
          timer.abort();
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
      };
      this.list.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(timeoutMs)) {
        this.clock.sleep(timeoutMs, timer.signal).then(() => waiter.settle(null), () => undefined);
      }
    });
  }

  /**
   * Hands values to waiters in order while `produce` returns one. `produce` is
   * called only when a waiter is there to take its result.
   */
  serve(produce: () => T | null): void {
    for (let guard = 0; this.list.length > 0 && guard < 1_000_000; guard++) {
      const value = produce();
      if (value === null) return;
      this.list[0]!.settle(value);
    }
  }

  /** Ends every wait with null. */
  cancelAll(): void {
    for (const w of [...this.list]) w.settle(null);
  }
}
