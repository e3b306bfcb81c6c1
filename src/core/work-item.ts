import type { OrchestrationRuntimeState } from './runtime-state.ts';
import type { OrchestrationState } from './orchestration-state.ts';
import type { TaskMessage } from './task-message.ts';

/**
 * A locked orchestration instance: all of its deliverable messages (up to a
 * backend cap) plus the stored history of its current execution. The lock is
 * exclusive: no other work item for this instance exists until this one is
 * completed, abandoned, released, or its lock is lost.
 */
export interface OrchestrationWorkItem {
  readonly instanceId: string;
  /** Exactly the messages this lock covers, in delivery order. */
  newMessages: TaskMessage[];
  /**
   * Stored history of the current execution (`pastEvents`). Empty for a new
   * instance and for a re-created one. The dispatcher appends to it.
   */
  orchestrationRuntimeState: OrchestrationRuntimeState;
  /** When the lock lapses unless renewed. */
  lockedUntil: Date;
  /** Set by the dispatcher when a cached executor serves this work item. */
  isExtendedSession: boolean;
  /** Backend state (revision, sequences, lease); opaque to everyone else. */
  readonly lockToken: unknown;
}

/** One `TaskScheduled` message, leased to one worker. */
export interface ActivityWorkItem {
  /** Backend message id, stable across redeliveries of the same message. */
  readonly id: string;
  readonly taskMessage: TaskMessage;
  lockedUntil: Date;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  readonly lockToken: unknown;
}

/**
 * Everything one orchestration checkpoint persists, as one object.
 *
 * `newRuntimeState` is the state to persist. When the episode continued as
 * new, it is a fresh runtime state for the next execution (every event new),
 * and the work item's `orchestrationRuntimeState` still holds the finished
 * execution, ending with its `ContinueAsNew` event.
 */
export interface OrchestrationCompletion {
  readonly newRuntimeState: OrchestrationRuntimeState;
  /** `TaskScheduled` messages for the activity queue. */
  readonly activityMessages: readonly TaskMessage[];
  /** Messages to other (or the same) instances: child starts, events, results to the parent. */
  readonly orchestratorMessages: readonly TaskMessage[];
  /** `TimerFired` messages to this instance, each due at its `fireAt`. */
  readonly timerMessages: readonly TaskMessage[];
  /** Legacy: always null from this runtime (continue-as-new runs in the same episode). */
  readonly continuedAsNewMessage: TaskMessage | null;
  /**
   * Status record of `newRuntimeState`; null when the batch was discarded in
   * reconciliation (persist nothing, consume the batch).
   */
  readonly orchestrationState: OrchestrationState | null;
}
