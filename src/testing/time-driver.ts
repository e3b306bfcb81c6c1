import type { AdvanceableClock } from './conformance-target.ts';

/** Most a single real-time wait of the kit may last. */
const MAX_REAL_WAIT_MS = 30_000;

/**
 * The kit's view of time: a simulated clock it advances, or real time it
 * waits on. Every wait is bounded.
 */
export class TimeDriver {
  constructor(private readonly clock: AdvanceableClock | undefined) {}

  get simulated(): boolean {
    return this.clock !== undefined;
  }

  now(): number {
    return this.clock ? this.clock.now() : Date.now();
  }

  /** Lets `ms` pass: advances the simulated clock, or sleeps (at most 30 s). */
  async pass(ms: number): Promise<void> {
    const d = Math.max(0, Math.ceil(ms));
    if (this.clock) {
      this.clock.advance(d);
      await settle();
      return;
    }
    await new Promise<void>((r) => setTimeout(r, Math.min(d, MAX_REAL_WAIT_MS)));
  }

  /** Lets time pass until `deadline` (no-op when it has come). */
  async until(deadline: number): Promise<void> {
    const left = deadline - this.now();
    if (left > 0) await this.pass(left);
  }
}

/** Lets promise callbacks and immediates run a few turns. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}
