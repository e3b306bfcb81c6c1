import type { FailureDetails } from './failure-details.ts';

/** Stable error codes. Callers branch on `code`, never on message text. */
export const ErrorCode = {
  /** The caller no longer holds the work item's lock (expired, taken, or finished). */
  LOCK_LOST: 'LOCK_LOST',
  /**
   * A checkpoint's revision check failed: another holder committed first.
   * Abandon without back-off.
   */
  SESSION_ABORTED: 'SESSION_ABORTED',
  /** The hub is not running (lock before start, call after stop). */
  HUB_NOT_RUNNING: 'HUB_NOT_RUNNING',
  /** A lifecycle call made in a state where it is not allowed (start before create). */
  INVALID_HUB_STATE: 'INVALID_HUB_STATE',
  /** The stored hub configuration differs from this process's (partitions, encoding, schema). */
  HUB_CONFIG_MISMATCH: 'HUB_CONFIG_MISMATCH',
  INVALID_HUB_NAME: 'INVALID_HUB_NAME',
  INSTANCE_EXISTS: 'INSTANCE_EXISTS',
  INSTANCE_NOT_FOUND: 'INSTANCE_NOT_FOUND',
  /** The operation needs a finished instance (purge of a running one). */
  NOT_COMPLETED: 'NOT_COMPLETED',
  INVALID_INSTANCE_ID: 'INVALID_INSTANCE_ID',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** A value cannot be serialized to JSON without loss. */
  NOT_SERIALIZABLE: 'NOT_SERIALIZABLE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  NON_DETERMINISM: 'NON_DETERMINISM',
  UNKNOWN_ORCHESTRATION: 'UNKNOWN_ORCHESTRATION',
  UNKNOWN_ACTIVITY: 'UNKNOWN_ACTIVITY',
  /** An activity awaited by the orchestrator failed. */
  TASK_FAILED: 'TASK_FAILED',
  /** A sub-orchestration awaited by the orchestrator failed or was terminated. */
  SUB_ORCHESTRATION_FAILED: 'SUB_ORCHESTRATION_FAILED',
  /** History read back from storage breaks the runtime-state rules. */
  CORRUPT_HISTORY: 'CORRUPT_HISTORY',
  /** A wait was abandoned by its AbortSignal. */
  ABORTED: 'ABORTED',
  TIMEOUT: 'TIMEOUT',
  /** A message was delivered too many times and moved to the dead-letter stream. */
  POISON_MESSAGE: 'POISON_MESSAGE',
  /** The worker or client was used after it was closed or in the wrong state. */
  INVALID_STATE: 'INVALID_STATE',
  /** The nats-server binary is missing or the embedded server failed to start. */
  SERVER_UNAVAILABLE: 'SERVER_UNAVAILABLE',
  /** A backend call failed for a transport or storage reason. */
  BACKEND_ERROR: 'BACKEND_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const MARK = Symbol.for('durabletask-nats.error');

/**
 * Base class of every error the product throws. `code` is stable; `cause`
 * chains the underlying error. Identity survives duplicate installs of the
 * package through a `Symbol.for` marker (see `isDurableTaskError`).
 */
export class DurableTaskError extends Error {
  readonly code: ErrorCode;
  /** Set by errors that must not be retried by retry policies. */
  readonly isNonRetriable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; nonRetriable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.isNonRetriable = options?.nonRetriable ?? false;
    Object.defineProperty(this, MARK, { value: true });
  }

  override get name(): string {
    return this.constructor.name;
  }
}

export function isDurableTaskError(err: unknown, code?: ErrorCode): err is DurableTaskError {
  if (typeof err !== 'object' || err === null) return false;
  if (!(MARK in err)) return false;
  return code === undefined || (err as unknown as DurableTaskError).code === code;
}

/** Thrown into orchestrator code when an awaited activity failed. */
export class TaskFailedError extends DurableTaskError {
  readonly taskScheduledId: number;
  readonly taskName: string;
  readonly failureDetails: FailureDetails;

  constructor(taskName: string, taskScheduledId: number, failureDetails: FailureDetails) {
    super(
      ErrorCode.TASK_FAILED,
      `Task '${taskName}' (#${taskScheduledId}) failed with an unhandled exception: ` +
        failureDetails.errorMessage,
      { nonRetriable: failureDetails.isNonRetriable },
    );
    this.taskName = taskName;
    this.taskScheduledId = taskScheduledId;
    this.failureDetails = failureDetails;
  }
}

/** Thrown into orchestrator code when an awaited sub-orchestration failed or was terminated. */
export class SubOrchestrationFailedError extends DurableTaskError {
  readonly taskScheduledId: number;
  readonly orchestrationName: string;
  readonly failureDetails: FailureDetails;

  constructor(name: string, taskScheduledId: number, failureDetails: FailureDetails) {
    super(
      ErrorCode.SUB_ORCHESTRATION_FAILED,
      `Sub-orchestration '${name}' (#${taskScheduledId}) failed: ${failureDetails.errorMessage}`,
      { nonRetriable: failureDetails.isNonRetriable },
    );
    this.orchestrationName = name;
    this.taskScheduledId = taskScheduledId;
    this.failureDetails = failureDetails;
  }
}

/** Fails the instance when replay finds a decision that differs from history. */
export class NonDeterminismError extends DurableTaskError {
  constructor(message: string) {
    super(ErrorCode.NON_DETERMINISM, message, { nonRetriable: true });
  }
}

/**
 * Thrown by orchestrator or activity code (or a backend) to say "abandon this
 * work item and try again", never visible as a failure.
 */
export class SessionAbortedError extends DurableTaskError {
  constructor(
    message = 'The session was aborted; the work item will be retried.',
    cause?: unknown,
  ) {
    super(ErrorCode.SESSION_ABORTED, message, { cause });
  }
}

export class LockLostError extends DurableTaskError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.LOCK_LOST, message, { cause });
  }
}
