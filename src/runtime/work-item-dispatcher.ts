import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import * as events from '../logging/runtime-events.ts';
import type { Clock } from '../util/clock.ts';
import { Slots } from './slots.ts';

/** How long a loop waits for a free slot before it logs a throttle warning and tries again. */
const SLOT_WAIT_MS = 5_000;
/** Back-off after an unexpected error in a loop. */
const LOOP_FAILURE_DELAY_MS = 10_000;
/** Longest wait for aborted in-flight items after a forced stop. */
const FORCED_DRAIN_MS = 5_000;
/** Successes needed to clear a process-error back-off. */
const BACKOFF_COUNTDOWN = 5;
/**
 * Shortest pause of a loop after a lock call that failed, or that came back
 * empty well before its receive timeout: whatever the backend answers, a loop
 * never calls it back to back. Doubles with each such call in a row.
 */
const FETCH_MIN_DELAY_MS = 100;
/** Longest pause that doubling reaches (a backend may ask for more after an error). */
const FETCH_MAX_DELAY_MS = 5_000;
/** Listeners the shared stop signals may hold besides one per loop and per in-flight item. */
const LISTENER_SLACK = 16;

/**
 * Pause after `streak` failed or early-empty lock calls in a row (1-based):
 * 100 ms doubling to 5 s, or the backend's own delay when it is longer.
 */
export function fetchBackoffMs(streak: number, backendDelayMs: number): number {
  const grown = Math.min(FETCH_MAX_DELAY_MS,
    FETCH_MIN_DELAY_MS * 2 ** Math.min(Math.max(0, streak - 1), 16));
  const asked = Number.isFinite(backendDelayMs) && backendDelayMs > 0 ? backendDelayMs : 0;
  return Math.max(grown, asked);
}

export interface WorkItemDispatcherOptions<T> {
  readonly name: string;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Work items processed at once. */
  readonly maxConcurrent: number;
  /** Independent fetch loops. */
  readonly dispatcherCount: number;
  readonly receiveTimeoutMs: number;
  readonly fetch: (receiveTimeoutMs: number, signal: AbortSignal) => Promise<T | null>;
  /**
   * Processes one work item, settling it with the backend. A throw counts as
   * a processing error (logged, and the process-delay hook may back off).
   * `signal` fires on a forced stop.
   */
  readonly process: (item: T, signal: AbortSignal) => Promise<void>;
  /** For an item fetched while stopping: hand it back unprocessed. */
  readonly releaseUnprocessed?: (item: T) => Promise<void>;
  readonly delayAfterFetchErrorMs: (err: unknown) => number;
  readonly delayAfterProcessErrorMs?: (err: unknown) => number;
  readonly describe: (item: T) => string;
}

/**
 * The generic work-item loop of contract.md §2.3: bounded concurrency, N
 * fetch loops, a per-loop back-off after fetch errors (at least 100 ms,
 * growing; also after a lock call that returned nothing long before its
 * receive timeout, so a loop can never spin), a dispatcher-wide back-off
 * after processing errors the backend asks to delay, and loops that never
 * die: a hub that is not running or a closed backend parks them at the
 * longest back-off until the worker stops. `stop()` drains in-flight items
 * (bounded); a forced stop aborts them through their signal.
 */
export class WorkItemDispatcher<T> {
  readonly #o: WorkItemDispatcherOptions<T>;
  readonly #slots: Slots;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stopper = new AbortController();
  readonly #forcer = new AbortController();
  #loops: Promise<void>[] = [];
  #backoffMs = 0;
  #countdown = 0;
  #stopping: Promise<void> | undefined;

  constructor(options: WorkItemDispatcherOptions<T>) {
    this.#o = options;
    this.#slots = new Slots(Math.max(1, options.maxConcurrent));
    // Every loop and every in-flight item listens on these two signals at once.
    setMaxListeners(Math.max(1, options.maxConcurrent) + Math.max(1, options.dispatcherCount) +
      LISTENER_SLACK, this.#stopper.signal, this.#forcer.signal);
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  start(): void {
    if (this.#loops.length > 0 || this.#stopping) return;
    const count = Math.max(1, this.#o.dispatcherCount);
    for (let i = 0; i < count; i++) this.#loops.push(this.#loop());
    events.dispatcherStarted(this.#o.logger, { dispatcher: this.#o.name, loops: count,
      maxConcurrent: this.#o.maxConcurrent });
  }

  /**
   * Stops fetching, then waits at most `timeoutMs` for in-flight items; a
   * forced stop (or a forced call during a graceful one) aborts them first.
   */
  stop(options: { forced?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const forced = options.forced ?? false;
    if (forced) this.#forcer.abort(new Error(`${this.#o.name} dispatcher stopped by force`));
    this.#stopping ??= this.#drain(options.timeoutMs ?? 30_000, forced);
    return this.#stopping;
  }

  async #drain(timeoutMs: number, forced: boolean): Promise<void> {
    this.#stopper.abort();
    // A forced stop has aborted in-flight work: wait only briefly for it to wind down.
    const waitMs = forced ? Math.min(timeoutMs, FORCED_DRAIN_MS) : timeoutMs;
    const deadline = this.#o.clock.now() + waitMs;
    await this.#settleWithin(this.#loops, deadline);
    const drained = await this.#settleWithin([...this.#inFlight], deadline);
    if (!drained) {
      this.#forcer.abort(new Error(`${this.#o.name} dispatcher did not drain in ${timeoutMs} ms`));
      await this.#settleWithin([...this.#inFlight], this.#o.clock.now() + 1_000);
    }
    events.dispatcherStopped(this.#o.logger, { dispatcher: this.#o.name,
      forced: forced || this.#forcer.signal.aborted, abandonedInFlight: this.#inFlight.size });
  }

  async #settleWithin(promises: readonly Promise<void>[], deadline: number): Promise<boolean> {
    if (promises.length === 0) return true;
    const left = Math.max(0, deadline - this.#o.clock.now());
    const timer = new AbortController();
    const all = Promise.allSettled(promises).then(() => true);
    const late = this.#o.clock.sleep(left, timer.signal).then(() => false, () => false);
    const done = await Promise.race([all, late]);
    timer.abort();
    return done;
  }

  async #loop(): Promise<void> {
    const signal = this.#stopper.signal;
    let throttled = false;
    /** Lock calls in a row that failed or came back empty early. */
    let streak = 0;
    // Each turn either holds a slot until it ends or hands it to a processing task.
    while (!signal.aborted) {
      let holding = false;
      try {
        holding = await this.#slots.acquire(SLOT_WAIT_MS, signal);
        if (!holding) {
          if (!signal.aborted && !throttled) {
            events.dispatcherThrottled(this.#o.logger, { dispatcher: this.#o.name,
              maxConcurrent: this.#o.maxConcurrent });
          }
          throttled = true;
          continue;
        }
        throttled = false;

        let delay = 0;
        let item: T | null = null;
        const fetchedAt = this.#o.clock.now();
        try {
          item = await this.#o.fetch(this.#o.receiveTimeoutMs, signal);
          streak = item === null && this.#earlyEmpty(fetchedAt) ? streak + 1 : 0;
          if (streak > 0) delay = fetchBackoffMs(streak, 0);
        } catch (err) {
          if (!signal.aborted) {
            streak++;
            delay = fetchBackoffMs(streak, this.#o.delayAfterFetchErrorMs(err));
            events.fetchFailed(this.#o.logger, { dispatcher: this.#o.name, err, delayMs: delay });
          }
        }

        if (item !== null && signal.aborted) {
          await this.#o.releaseUnprocessed?.(item).catch(() => undefined);
        } else if (item !== null) {
          holding = false;
          this.#spawn(item);
        }
        delay = Math.max(delay, this.#backoffMs);
        if (holding) {
          holding = false;
          this.#slots.release();
        }
        if (delay > 0 && !signal.aborted) {
          await this.#o.clock.sleep(delay, signal).catch(() => undefined);
        }
      } catch (err) {
        if (holding) this.#slots.release();
        if (signal.aborted) break;
        events.dispatcherLoopFailed(this.#o.logger, { dispatcher: this.#o.name, err });
        await this.#o.clock.sleep(LOOP_FAILURE_DELAY_MS, signal).catch(() => undefined);
      }
    }
  }

  /** True when a lock call that found nothing returned long before its receive timeout. */
  #earlyEmpty(fetchedAt: number): boolean {
    if (this.#stopper.signal.aborted) return false;
    const waited = this.#o.clock.now() - fetchedAt;
    return waited < Math.min(this.#o.receiveTimeoutMs, FETCH_MIN_DELAY_MS);
  }

  #spawn(item: T): void {
    const task = this.#run(item).finally(() => {
      this.#inFlight.delete(task);
      this.#slots.release();
    });
    this.#inFlight.add(task);
  }

  async #run(item: T): Promise<void> {
    try {
      await this.#o.process(item, this.#forcer.signal);
      if (this.#countdown > 0 && --this.#countdown === 0) this.#backoffMs = 0;
    } catch (err) {
      events.processingFailed(this.#o.logger, { kind: this.#o.name,
        workItem: this.#o.describe(item),
        err });
      let d = 0;
      try {
        d = this.#o.delayAfterProcessErrorMs?.(err) ?? 0;
      } catch {
        d = 0;
      }
      if (d > 0) {
        this.#backoffMs = Math.max(this.#backoffMs, d);
        this.#countdown = BACKOFF_COUNTDOWN;
      }
    }
  }
}
