import type { RetryPolicy } from './retry-policy.ts';
import { Task, type CompletionClock, type TimerTask } from './task.ts';

function isNonRetriable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { isNonRetriable?: unknown; failureDetails?: { isNonRetriable?: unknown } };
  return e.isNonRetriable === true || e.failureDetails?.isNonRetriable === true;
}

/**
 * Runs attempts of a call under a retry policy. Every wait between attempts
 * is a durable timer; after the last failed attempt a zero-length timer is
 * still created (N attempts give N timers), then the last error is rethrown.
 * A failure marked non-retriable is rethrown at once, without `handle`.
 */
export class RetryTask<T> extends Task<T> {
  readonly #policy: RetryPolicy;
  readonly #attempt: () => Task<T>;
  readonly #now: () => number;
  readonly #timer: (fireAtMs: number) => TimerTask;
  readonly #firstAttemptAt: number;
  #failures = 0;

  constructor(
    clock: CompletionClock,
    policy: RetryPolicy,
    attempt: () => Task<T>,
    io: { now: () => number; timer: (fireAtMs: number) => TimerTask },
  ) {
    super(clock);
    this.#policy = policy;
    this.#attempt = attempt;
    this.#now = io.now;
    this.#timer = io.timer;
    this.#firstAttemptAt = io.now();
    this.#start();
  }

  /** Attempts made so far. */
  get attempts(): number {
    return this.#failures + (this.isCompleted && !this.isFailed ? 1 : 0);
  }

  #start(): void {
    this.#attempt().onDone((t) => this.#attemptDone(t as Task<T>));
  }

  #attemptDone(attempt: Task<T>): void {
    if (!attempt.isFailed) {
      this.complete(attempt.result as T);
      return;
    }
    const err = attempt.error;
    this.#failures++;
    if (isNonRetriable(err)) {
      this.fail(err);
      return;
    }
    const now = this.#now();
    if (this.#failures >= this.#policy.maxNumberOfAttempts) {
      this.#timer(now).onDone(() => this.fail(err));
      return;
    }
    if (!this.#shouldRetry(err) || now >= this.#firstAttemptAt + this.#policy.retryTimeoutMs) {
      this.fail(err);
      return;
    }
    const delay = this.#policy.delayAfter(this.#failures);
    this.#timer(now + delay).onDone(() => this.#start());
  }

  #shouldRetry(err: unknown): boolean {
    try {
      return this.#policy.handle(err instanceof Error ? err : new Error(String(err))) === true;
    } catch {
      return false;
    }
  }
}
