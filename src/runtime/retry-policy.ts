import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { checkKnownKeys, optionKeys } from '../util/option-keys.ts';

/** How an orchestration retries a failed activity or sub-orchestration. */
export interface RetryOptions {
  /** Delay before the second attempt, in ms; must be > 0. */
  readonly firstRetryIntervalMs: number;
  /** Total number of attempts, the first included; at least 1. */
  readonly maxNumberOfAttempts: number;
  /** Each delay is the previous one times this. @default 1 */
  readonly backoffCoefficient?: number;
  /** Upper bound of one delay, in ms. @default Infinity */
  readonly maxRetryIntervalMs?: number;
  /** No attempt starts later than this long after the first one, in ms. @default Infinity */
  readonly retryTimeoutMs?: number;
  /**
   * Decides whether a failure is worth another attempt; it receives the
   * `TaskFailedError` or `SubOrchestrationFailedError` (with `failureDetails`).
   * Not consulted for failures marked non-retriable. @default () => true
   */
  readonly handle?: (failure: Error) => boolean;
}

const RETRY_KEYS = optionKeys<RetryOptions>({
  firstRetryIntervalMs: true, maxNumberOfAttempts: true, backoffCoefficient: true,
  maxRetryIntervalMs: true, retryTimeoutMs: true, handle: true,
});

function invalid(message: string): DurableTaskError {
  return new DurableTaskError(ErrorCode.INVALID_ARGUMENT, `Invalid retry policy: ${message}`);
}

/**
 * A validated retry policy. Construction rejects a first interval that is
 * not positive, fewer than one attempt, and a coefficient below 1.
 */
export class RetryPolicy implements RetryOptions {
  readonly firstRetryIntervalMs: number;
  readonly maxNumberOfAttempts: number;
  readonly backoffCoefficient: number;
  readonly maxRetryIntervalMs: number;
  readonly retryTimeoutMs: number;
  readonly handle: (failure: Error) => boolean;

  constructor(options: RetryOptions) {
    if (typeof options !== 'object' || options === null) {
      throw invalid(`the options must be an object, got ${String(options)}.`);
    }
    checkKnownKeys('retry policy', options, RETRY_KEYS);
    const { firstRetryIntervalMs: first, maxNumberOfAttempts: attempts } = options;
    if (typeof first !== 'number' || !(first > 0) || !Number.isFinite(first)) {
      throw invalid(`firstRetryIntervalMs must be a positive number of ms, got ${String(first)}.`);
    }
    if (!Number.isInteger(attempts) || attempts < 1) {
      throw invalid(`maxNumberOfAttempts must be an integer >= 1, got ${String(attempts)}.`);
    }
    const coefficient = options.backoffCoefficient ?? 1;
    if (typeof coefficient !== 'number' || !(coefficient >= 1) || !Number.isFinite(coefficient)) {
      throw invalid(`backoffCoefficient must be a finite number >= 1, got ${String(coefficient)}.`);
    }
    const maxInterval = options.maxRetryIntervalMs ?? Infinity;
    if (typeof maxInterval !== 'number' || !(maxInterval > 0)) {
      throw invalid('maxRetryIntervalMs must be a positive number of ms, ' +
        `got ${String(maxInterval)}.`);
    }
    const timeout = options.retryTimeoutMs ?? Infinity;
    if (typeof timeout !== 'number' || !(timeout > 0)) {
      throw invalid(`retryTimeoutMs must be a positive number of ms, got ${String(timeout)}.`);
    }
    if (options.handle !== undefined && typeof options.handle !== 'function') {
      throw invalid('handle must be a function.');
    }
    this.firstRetryIntervalMs = first;
    this.maxNumberOfAttempts = attempts;
    this.backoffCoefficient = coefficient;
    this.maxRetryIntervalMs = maxInterval;
    this.retryTimeoutMs = timeout;
    this.handle = options.handle ?? (() => true);
  }

  /** Returns `options` when it already is a policy, else validates it. */
  static from(options: RetryOptions): RetryPolicy {
    return options instanceof RetryPolicy ? options : new RetryPolicy(options);
  }

  /** Delay after the `failedAttempts`-th failure (1-based): first x coefficient^(n-1), capped. */
  delayAfter(failedAttempts: number): number {
    const raw = this.firstRetryIntervalMs * this.backoffCoefficient ** (failedAttempts - 1);
    return Math.min(raw, this.maxRetryIntervalMs);
  }
}
