import type { Clock } from '../util/clock.ts';

interface Sleeper {
  readonly deadline: number;
  readonly order: number;
  readonly wake: () => void;
}

/**
 * A clock that moves only when `advance` is called: give it to a backend
 * (`clock` option) and the conformance kit drives lock expiry, timers and
 * scheduled starts without waiting. `sleep` resolves once time passes its
 * deadline, earliest first; an aborted sleep rejects with the signal's reason.
 */
export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  #sleepers: Sleeper[] = [];

  constructor(start: number = Date.parse('2031-01-01T00:00:00.000Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const deadline = this.#now + Math.max(0, ms);
      if (deadline <= this.#now) {
        resolve();
        return;
      }
      const onAbort = (): void => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      const sleeper: Sleeper = {
        deadline,
        order: this.#order++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** Moves time forward by `ms` (at least 0) and wakes the sleeps that became due. */
  advance(ms: number): void {
    this.#now += Math.max(0, ms);
    const due = this.#sleepers
      .filter((s) => s.deadline <= this.#now)
      .sort((a, b) => a.deadline - b.deadline || a.order - b.order);
    if (due.length === 0) return;
    this.#sleepers = this.#sleepers.filter((s) => s.deadline > this.#now);
    for (const s of due) s.wake();
  }
}
