import type { Clock } from '../../src/util/clock.ts';

interface Sleeper {
  readonly deadline: number;
  readonly order: number;
  readonly resolve: () => void;
}

/**
 * A clock that moves only when a test says so. `sleep` resolves when
 * `advance` / `set` passes its deadline (in deadline order); an aborted sleep
 * rejects with the signal's reason and is forgotten. Each test makes its own.
 */
export class SimClock implements Clock {
  private current: number;
  private order = 0;
  private sleepers: Sleeper[] = [];

  constructor(start: number = Date.parse('2030-01-01T00:00:00.000Z')) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** Number of sleeps not yet resolved. */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }

  /** Earliest deadline among pending sleeps, or undefined. */
  get nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const s of this.sleepers) if (min === undefined || s.deadline < min) min = s.deadline;
    return min;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const deadline = this.current + Math.max(0, ms);
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      const sleeper: Sleeper = {
        deadline,
        order: this.order++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      if (deadline <= this.current) {
        sleeper.resolve();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Moves time forward by `ms` and wakes every sleep that is due, earliest first. */
  advance(ms: number): void {
    this.set(this.current + ms);
  }

  /** Moves time to `time` (never backwards) and wakes due sleeps. */
  set(time: number): void {
    if (time < this.current) {
      throw new Error(`SimClock cannot go back from ${this.current} to ${time}`);
    }
    this.current = time;
    const due = this.sleepers.filter((s) => s.deadline <= time)
      .sort((a, b) => a.deadline - b.deadline || a.order - b.order);
    if (due.length === 0) return;
    this.sleepers = this.sleepers.filter((s) => s.deadline > time);
    for (const s of due) s.resolve();
  }
}

/** Lets promise callbacks run (a few macrotask turns); use after `advance`. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}
