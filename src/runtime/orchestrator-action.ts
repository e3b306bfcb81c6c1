import type { FailureDetails } from '../core/failure-details.ts';
import type { EventRaisedEvent, Tags } from '../core/history-event.ts';

/**
 * Decisions of one orchestrator pass. `id` is the action's sequence number in
 * its execution: it becomes the `eventId` of the history event recorded for
 * it and the `taskScheduledId` / `timerId` of its response.
 */
export interface ScheduleTaskAction {
  readonly kind: 'scheduleTask';
  readonly id: number;
  readonly name: string;
  readonly version: string;
  /** Serialized input. */
  readonly input?: string;
  readonly tags?: Tags;
}

export interface CreateTimerAction {
  readonly kind: 'createTimer';
  readonly id: number;
  /** ISO time. */
  readonly fireAt: string;
}

export interface CreateSubOrchestrationAction {
  readonly kind: 'createSubOrchestration';
  readonly id: number;
  readonly name: string;
  readonly version: string;
  readonly instanceId: string;
  readonly input?: string;
  /** The child's own tags; the dispatcher merges the parent's under them. */
  readonly tags?: Tags;
  /** The child does not report back and the parent does not wait. */
  readonly fireAndForget: boolean;
}

export interface SendEventAction {
  readonly kind: 'sendEvent';
  readonly id: number;
  readonly instanceId: string;
  readonly name: string;
  readonly input?: string;
}

export type CompletionStatus = 'Completed' | 'Failed' | 'Terminated' | 'ContinuedAsNew';

export interface CompleteOrchestrationAction {
  readonly kind: 'completeOrchestration';
  readonly id: number;
  readonly status: CompletionStatus;
  /** Completed: output; Terminated: reason; ContinuedAsNew: the next input. */
  readonly result?: string;
  readonly failureDetails?: FailureDetails;
  /** ContinuedAsNew: version of the next execution (absent: keep). */
  readonly newVersion?: string;
  /** ContinuedAsNew: external events handed to the next execution, in order. */
  readonly carryoverEvents?: readonly EventRaisedEvent[];
}

export type OrchestratorAction =
  | ScheduleTaskAction
  | CreateTimerAction
  | CreateSubOrchestrationAction
  | SendEventAction
  | CompleteOrchestrationAction;
