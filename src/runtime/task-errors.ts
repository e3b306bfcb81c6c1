import { DurableTaskError, ErrorCode } from '../core/errors.ts';

/** A `waitForExternalEvent` with `timeoutMs` saw its timer fire first. */
export class ExternalEventTimeoutError extends DurableTaskError {
  readonly eventName: string;

  constructor(eventName: string, timeoutMs: number) {
    super(ErrorCode.TIMEOUT,
      `Timed out after ${timeoutMs} ms waiting for external event '${eventName}'.`);
    this.eventName = eventName;
  }
}

/** A timer was cancelled before it fired. */
export class TimerCancelledError extends DurableTaskError {
  readonly timerId: number;

  constructor(timerId: number) {
    super(ErrorCode.ABORTED, `Timer #${timerId} was cancelled before it fired.`);
    this.timerId = timerId;
  }
}
