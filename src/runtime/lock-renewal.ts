import { MAX_TIMEOUT_MS, systemClock, type Clock } from '../util/clock.ts';

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

/** One renewing lock in the shared schedule. */
interface Entry {
  readonly options: RenewalOptions;
  /** Length of the lock as last seen (its expiry minus the time of the renewal). */
  length: number;
  /** When the next renewal is due (clock ms). */
  due: number;
  stopped: boolean;
  failed: boolean;
}

/**
 * One schedule of renewals per clock: a single pending sleep for the
 * earliest due renewal, instead of a timer, an AbortController and a
 * listener per work item. Starting and stopping a renewal is a set insert and
 * delete; the sleep is re-armed only when a renewal is due earlier than it.
 */
class RenewalSchedule {
  readonly #clock: Clock;
  readonly #entries = new Set<Entry>();
  #armedAt = Number.POSITIVE_INFINITY;
  #wake: AbortController | undefined;
  /** On the system clock: a plain timer that does not keep the process alive. */
  #timer: NodeJS.Timeout | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  add(entry: Entry): void {
    this.#entries.add(entry);
    if (entry.due < this.#armedAt) this.#arm(entry.due);
  }

  remove(entry: Entry): void {
    this.#entries.delete(entry);
    if (this.#entries.size === 0 && this.#wake) {
      // On another clock a pending sleep may hold the process open: drop it.
      // Nothing left to renew: no pending sleep keeps the process alive.
      this.#wake.abort(STOPPED);
      this.#wake = undefined;
      this.#armedAt = Number.POSITIVE_INFINITY;
    }
  }

  #arm(at: number): void {
    if (this.#clock === systemClock) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#armedAt = at;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#armedAt = Number.POSITIVE_INFINITY;
        this.#fire();
      }, Math.min(MAX_TIMEOUT_MS, Math.max(0, at - Date.now())));
      this.#timer.unref();
      return;
    }
    this.#wake?.abort(STOPPED);
    const wake = new AbortController();
    this.#wake = wake;
    this.#armedAt = at;
    this.#clock.sleep(Math.max(0, at - this.#clock.now()), wake.signal).then(() => {
      if (this.#wake !== wake) return;
      this.#wake = undefined;
      this.#armedAt = Number.POSITIVE_INFINITY;
      this.#fire();
    }, () => undefined);
  }

  #fire(): void {
    const now = this.#clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.#entries) {
      if (e.due <= now) {
        this.#entries.delete(e);
        void this.#renew(e);
      } else if (e.due < next) {
        next = e.due;
      }
    }
    if (next < this.#armedAt) this.#arm(next);
  }

  async #renew(e: Entry): Promise<void> {
    const clock = this.#clock;
    const before = clock.now();
    try {
      await e.options.renew();
    } catch (err) {
      if (e.stopped) return;
      e.failed = true;
      e.options.onFailure(err);
      return;
    }
    if (e.stopped) return;
    e.length = Math.max(e.options.lockedUntil() - before, MIN_DELAY_MS * 3);
    const now = clock.now();
    e.due = now + renewalDelayMs(e.options.lockedUntil(), now, e.length);
    this.add(e);
  }
}

const schedules = new WeakMap<Clock, RenewalSchedule>();

/**
 * Renews a work-item lock in the background until stopped or until one
 * renewal fails. Does nothing for locks that do not expire, or that already
 * expired when it started. Every renewal on one clock shares one schedule.
 */
export function startRenewal(options: RenewalOptions): Renewal {
  const { clock } = options;
  const start = clock.now();
  const until = options.lockedUntil();
  if (!Number.isFinite(until) || until - start > NO_EXPIRY_MS || until <= start) {
    return { stop: () => undefined, get failed() { return false; } };
  }
  let schedule = schedules.get(clock);
  if (!schedule) {
    schedule = new RenewalSchedule(clock);
    schedules.set(clock, schedule);
  }
  const length = until - start;
  const entry: Entry = { options, length, due: start + renewalDelayMs(until, start, length),
    stopped: false, failed: false };
  schedule.add(entry);
  const owner = schedule;
  return {
    stop: () => {
      entry.stopped = true;
      owner.remove(entry);
    },
    get failed() { return entry.failed; },
  };
}
