import type { Clock } from '../util/clock.ts';

/**
 * One pending clock sleep for the earliest time something becomes due (a
 * timer, a lock deadline, a scheduled start, a back-off). `arm(at)` replaces
 * the sleep when `at` is earlier; when it ends, `onDue` runs and re-arms with
 * what it returns. Nothing sleeps while nothing is due, so an idle backend
 * holds no timers.
 */
export class DueTimer {
  private armedAt = Infinity;
  private sleep: AbortController | null = null;
  private enabled = false;

  constructor(
    private readonly clock: Clock,
    /** Processes what is due; returns the next due time (Infinity: none). */
    private readonly onDue: () => number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Starts arming (the hub runs) and processes what is due now. */
  enable(): void {
    this.enabled = true;
    this.fire();
  }

  /** Cancels the pending sleep and stops arming. */
  disable(): void {
    this.enabled = false;
    this.cancel();
  }

  /** Makes sure a wake-up happens at `at` or earlier. */
  arm(at: number): void {
    if (!this.enabled || !(at < this.armedAt)) return;
    this.cancel();
    if (at === Infinity) return;
    const sleep = new AbortController();
    this.sleep = sleep;
    this.armedAt = at;
    const ms = Math.max(0, at - this.clock.now());
    this.clock.sleep(ms, sleep.signal).then(() => {
      if (this.sleep !== sleep) return;
      this.sleep = null;
      this.armedAt = Infinity;
      this.fire();
    }, () => undefined);
  }

  private fire(): void {
    if (!this.enabled) return;
    let next: number;
    try {
      next = this.onDue();
    } catch (err) {
      this.onError(err);
      next = this.clock.now() + 1_000;
    }
    // Something due now was processed by onDue; never spin on a time already past.
    const now = this.clock.now();
    this.arm(next <= now ? now + 1 : next);
  }

  private cancel(): void {
    this.sleep?.abort();
    this.sleep = null;
    this.armedAt = Infinity;
  }
}
