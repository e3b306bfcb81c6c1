import type { Clock } from '../util/clock.ts';

/** Renewals further out than this are treated as "the lock does not expire". */
const NO_EXPIRY_MS = 365 * 24 * 3600_000;
const MIN_DELAY_MS = 100;
/** Abort reason of a renewal loop that was stopped; one object, so stopping allocates no error. */
const STOPPED = Object.freeze({ reason: 'renewal stopped' });

/**
 * When to renew next: the lesser of the contract's schedule (30 s before
 * expiry, clamped to 5..30 s) and a third of the lock's length (design 9.18).
 */
export function renewalDelayMs(lockedUntilMs: number, nowMs: number, lockLengthMs: number): number {
  const contract = Math.min(Math.max(lockedUntilMs - nowMs - 30_000, 5_000), 30_000);
  return Math.max(MIN_DELAY_MS, Math.min(contract, lockLengthMs / 3));
}

export interface RenewalOptions {
  readonly clock: Clock;
  /** Current expiry of the lock, epoch ms. */
  readonly lockedUntil: () => number;
  /** Renews; the new expiry is read back through `lockedUntil`. Throws when the lock is gone. */
  readonly renew: () => Promise<void>;
  /** Called once when a renewal failed; renewal stops. */
  readonly onFailure: (err: unknown) => void;
}

export interface Renewal {
  /** Stops renewing; safe to call more than once. */
  stop(): void;
  /** True once a renewal failed. */
  readonly failed: boolean;
}

/**
 * Renews a work-item lock in the background until stopped or until one
 * renewal fails. Does nothing for locks that do not expire, or that already
 * expired when it started.
 */
export function startRenewal(options: RenewalOptions): Renewal {
  const { clock } = options;
  const stopper = new AbortController();
  const state = { failed: false };
  const start = clock.now();
  const until = options.lockedUntil();
  if (!Number.isFinite(until) || until - start > NO_EXPIRY_MS || until <= start) {
    return { stop: () => undefined, get failed() { return false; } };
  }

  const loop = async (): Promise<void> => {
    let length = until - start;
    while (!stopper.signal.aborted) {
      const now = clock.now();
      await clock.sleep(renewalDelayMs(options.lockedUntil(), now, length), stopper.signal);
      if (stopper.signal.aborted) return;
      const before = clock.now();
      try {
        await options.renew();
      } catch (err) {
        if (stopper.signal.aborted) return;
        state.failed = true;
        options.onFailure(err);
        return;
      }
      length = Math.max(options.lockedUntil() - before, MIN_DELAY_MS * 3);
    }
  };
  loop().catch(() => undefined);
  return {
    stop: () => stopper.abort(STOPPED),
    get failed() { return state.failed; },
  };
}
