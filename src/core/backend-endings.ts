import { MAX_ERROR_MESSAGE_CHARS, truncate, type FailureDetails } from './failure-details.ts';
import { newEvent, type HistoryEvent, type Tags } from './history-event.ts';
import type { ParentInstance } from './orchestration-instance.ts';
import type { OrchestrationState } from './orchestration-state.ts';
import { isLiveStatus } from './orchestration-status.ts';
import { buildOrchestrationState, OrchestrationRuntimeState } from './runtime-state.ts';
import { taskMessage, type TaskMessage } from './task-message.ts';

// Executions a backend ends on its own authority (a dead-lettered message, a Pending
// instance terminated before it ran), in the shapes the runtime itself produces, so an
// instance and its parent cannot tell who ended it.

/** Tag of a child that does not report to its parent (`startSubOrchestration`). */
const FIRE_AND_FORGET_TAG = 'FireAndForget';

/** What the backend checkpoints to end an execution as Failed. */
export interface BackendFailure {
  /** History of the execution after the failing episode (`newEvents`: that episode). */
  readonly runtimeState: OrchestrationRuntimeState;
  readonly state: OrchestrationState;
  /** The report to the parent, when there is one to tell. */
  readonly orchestratorMessages: TaskMessage[];
}

/**
 * The checkpoint that fails the current execution with `failure`, as if its
 * orchestrator had failed on this batch: OrchestratorStarted, the start (for
 * an execution that never ran), ExecutionCompleted(Failed),
 * OrchestratorCompleted, and the parent's SubOrchestrationInstanceFailed.
 * Null when there is no live execution to fail (no start anywhere, or it
 * already ended): the batch is then only discarded.
 */
export function failExecution(
  history: readonly HistoryEvent[],
  batch: readonly TaskMessage[],
  failure: FailureDetails,
  now: number,
): BackendFailure | null {
  const state = new OrchestrationRuntimeState(history);
  if (state.executionStartedEvent && !isLiveStatus(state.orchestrationStatus)) return null;
  state.addEvent(newEvent({ type: 'OrchestratorStarted' }, now));
  if (!state.executionStartedEvent) {
    const start = batch.find((m) => m.event.type === 'ExecutionStarted');
    if (!start) return null;
    state.addEvent(start.event);
  }
  state.addEvent(newEvent({
    type: 'ExecutionCompleted', eventId: nextActionId(state.events), orchestrationStatus: 'Failed',
    failureDetails: failure,
  }, now));
  state.addEvent(newEvent({ type: 'OrchestratorCompleted' }, now));
  const started = state.executionStartedEvent!;
  const report = childFailedReport(started.parentInstance, started.tags, failure, now);
  return {
    runtimeState: state,
    state: buildOrchestrationState(state, now),
    orchestratorMessages: report ? [report] : [],
  };
}

/**
 * The parent's SubOrchestrationInstanceFailed for a child that ended with
 * `failure`; null when there is no parent or the child is fire-and-forget.
 */
export function childFailedReport(
  parent: ParentInstance | undefined,
  tags: Tags | undefined,
  failure: FailureDetails,
  now: number,
): TaskMessage | null {
  if (!parent || tags?.[FIRE_AND_FORGET_TAG] === 'true') return null;
  return taskMessage(newEvent({
    type: 'SubOrchestrationInstanceFailed', taskScheduledId: parent.taskScheduleId,
    reason: failure.errorMessage, failureDetails: failure,
  }, now), parent.orchestrationInstance);
}

/** The failure a parent sees for a terminated child; `reason` is the serialized reason. */
export function terminatedChildFailure(instanceId: string, reason: string | undefined):
  FailureDetails {
  return {
    errorType: 'OrchestrationTerminated',
    errorMessage: truncate(`Sub-orchestration '${instanceId}' was terminated: ` +
      readableReason(reason), MAX_ERROR_MESSAGE_CHARS),
    isNonRetriable: true,
  };
}

/** The reason as text: the JSON string it holds, else the serialized text itself. */
function readableReason(serialized: string | undefined): string {
  if (serialized === undefined) return '(no reason given)';
  try {
    const value: unknown = JSON.parse(serialized);
    return typeof value === 'string' ? value : serialized;
  } catch {
    return serialized;
  }
}

/** The id a completion decision takes when no orchestrator ran: after every recorded decision. */
function nextActionId(events: readonly HistoryEvent[]): number {
  let next = 0;
  for (const e of events) {
    if (e.type === 'TaskScheduled' || e.type === 'TimerCreated' ||
      e.type === 'SubOrchestrationInstanceCreated' || e.type === 'EventSent' ||
      e.type === 'ExecutionCompleted') {
      if (e.eventId >= next) next = e.eventId + 1;
    }
  }
  return next;
}
