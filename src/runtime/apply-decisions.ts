import { terminatedChildFailure } from '../core/backend-endings.ts';
import type { FailureDetails } from '../core/failure-details.ts';
import { newEvent } from '../core/history-event.ts';
import type { OrchestrationRuntimeState } from '../core/runtime-state.ts';
import { taskMessage, type TaskMessage } from '../core/task-message.ts';
import type { CompleteOrchestrationAction, OrchestratorAction } from './orchestrator-action.ts';
import { isFireAndForget, mergeChildTags } from './tags.ts';

/** Messages an episode sends, by destination queue. */
export interface EpisodeMessages {
  readonly activityMessages: TaskMessage[];
  readonly orchestratorMessages: TaskMessage[];
  readonly timerMessages: TaskMessage[];
}

export function emptyMessages(): EpisodeMessages {
  return { activityMessages: [], orchestratorMessages: [], timerMessages: [] };
}

export function messageCount(m: EpisodeMessages): number {
  return m.activityMessages.length + m.orchestratorMessages.length + m.timerMessages.length;
}

export interface ApplyContext {
  /** Epoch ms stamped on the events and messages made. */
  readonly now: number;
  /** Mints execution ids for children. */
  readonly newExecutionId: () => string;
}

/**
 * Turns one decision into its history event (appended to `state`) and its
 * messages, as contract.md §3.2 says. Returns the completion when the
 * decision ends the execution.
 */
export function applyDecision(
  action: OrchestratorAction,
  state: OrchestrationRuntimeState,
  out: EpisodeMessages,
  ctx: ApplyContext,
): CompleteOrchestrationAction | undefined {
  const started = state.executionStartedEvent;
  if (!started) throw new Error('applyDecision needs a started execution');
  const self = started.orchestrationInstance;
  const now = ctx.now;

  switch (action.kind) {
    case 'scheduleTask': {
      const { id, name, version, input, tags } = action;
      state.addEvent(newEvent({ type: 'TaskScheduled', eventId: id, name, version, tags }, now));
      const message = newEvent({ type: 'TaskScheduled', eventId: id, name, version, input, tags },
        now);
      out.activityMessages.push(taskMessage(message, self, started.tags));
      return undefined;
    }
    case 'createTimer': {
      const { id, fireAt } = action;
      state.addEvent(newEvent({ type: 'TimerCreated', eventId: id, fireAt }, now));
      out.timerMessages.push(taskMessage(
        newEvent({ type: 'TimerFired', timerId: id, fireAt }, now), self));
      return undefined;
    }
    case 'createSubOrchestration': {
      const { id, name, version, instanceId, input, fireAndForget } = action;
      const tags = mergeChildTags(started.tags, action.tags, fireAndForget);
      state.addEvent(newEvent({
        type: 'SubOrchestrationInstanceCreated', eventId: id, name, version, instanceId, tags,
      }, now));
      const child = { instanceId, executionId: ctx.newExecutionId() };
      const start = newEvent({
        type: 'ExecutionStarted',
        orchestrationInstance: child,
        parentInstance: {
          name: started.name, version: started.version, orchestrationInstance: self,
          taskScheduleId: id,
        },
        name, version, input, tags,
      }, now);
      out.orchestratorMessages.push(taskMessage(start, child));
      return undefined;
    }
    case 'sendEvent': {
      const { id, instanceId, name, input } = action;
      state.addEvent(newEvent({ type: 'EventSent', eventId: id, instanceId, name, input }, now));
      out.orchestratorMessages.push(taskMessage(
        newEvent({ type: 'EventRaised', name, input }, now), { instanceId }));
      return undefined;
    }
    case 'completeOrchestration':
      applyCompletion(action, state, out, now);
      return action;
  }
}

function applyCompletion(
  action: CompleteOrchestrationAction,
  state: OrchestrationRuntimeState,
  out: EpisodeMessages,
  now: number,
): void {
  const { id, status, result } = action;
  if (status === 'ContinuedAsNew') {
    state.addEvent(newEvent({
      type: 'ContinueAsNew', eventId: id, orchestrationStatus: 'ContinuedAsNew', result,
    }, now));
    return;
  }
  state.addEvent(newEvent({
    type: 'ExecutionCompleted', eventId: id, orchestrationStatus: status, result,
    failureDetails: action.failureDetails,
  }, now));
  const started = state.executionStartedEvent;
  const parent = started?.parentInstance;
  if (!started || !parent || isFireAndForget(started.tags)) return;
  const taskScheduledId = parent.taskScheduleId;
  if (status === 'Completed') {
    out.orchestratorMessages.push(taskMessage(newEvent({
      type: 'SubOrchestrationInstanceCompleted', taskScheduledId, result,
    }, now), parent.orchestrationInstance));
    return;
  }
  const failureDetails: FailureDetails = action.failureDetails ??
    terminatedChildFailure(started.orchestrationInstance.instanceId, result);
  out.orchestratorMessages.push(taskMessage(newEvent({
    type: 'SubOrchestrationInstanceFailed', taskScheduledId, reason: failureDetails.errorMessage,
    failureDetails,
  }, now), parent.orchestrationInstance));
}
