import type { HistoryEvent } from '../core/history-event.ts';
import type { TaskMessage } from '../core/task-message.ts';

/**
 * Identities the conformance model gives to messages, activities and history
 * events. Every message the kit sends is unique by its key, so a batch can be
 * matched against the model's queues without trusting the backend's ids.
 */

/** What a message is, for the model's bookkeeping. */
export type MessageKind = 'start' | 'event' | 'timer' | 'result' | 'child-result' | 'other';

export function messageKind(m: TaskMessage): MessageKind {
  switch (m.event.type) {
    case 'ExecutionStarted':
      return 'start';
    case 'EventRaised':
      return 'event';
    case 'TimerFired':
      return 'timer';
    case 'TaskCompleted':
    case 'TaskFailed':
      return 'result';
    case 'SubOrchestrationInstanceCompleted':
    case 'SubOrchestrationInstanceFailed':
      return 'child-result';
    default:
      return 'other';
  }
}

/** The model key of an orchestration message. */
export function messageKey(m: TaskMessage): string {
  const e = m.event;
  const exec = m.orchestrationInstance.executionId ?? '';
  switch (e.type) {
    case 'ExecutionStarted':
      return `start:${e.orchestrationInstance.executionId}`;
    case 'EventRaised':
      return `ev:${e.name}`;
    case 'TimerFired':
      return `timer:${exec}:${e.timerId}`;
    case 'TaskCompleted':
    case 'TaskFailed':
      return `result:${exec}:${e.taskScheduledId}`;
    case 'SubOrchestrationInstanceCompleted':
    case 'SubOrchestrationInstanceFailed':
      return `child:${exec}:${e.taskScheduledId}`;
    default:
      return `other:${e.type}:${m.orchestrationInstance.instanceId}`;
  }
}

export function startKey(executionId: string): string {
  return `start:${executionId}`;
}

export function timerKey(executionId: string, timerId: number): string {
  return `timer:${executionId}:${timerId}`;
}

export function resultKey(executionId: string, taskScheduledId: number): string {
  return `result:${executionId}:${taskScheduledId}`;
}

export function childResultKey(parentExecutionId: string, taskScheduledId: number): string {
  return `child:${parentExecutionId}:${taskScheduledId}`;
}

/** The model key of an activity (`TaskScheduled`) message: its owner execution and task id. */
export function activityKey(m: TaskMessage): string {
  return `act:${m.orchestrationInstance.executionId ?? ''}:${m.event.eventId}`;
}

export function activityKeyOf(executionId: string, taskScheduledId: number): string {
  return `act:${executionId}:${taskScheduledId}`;
}

/**
 * A short, stable description of a history event, used to compare the
 * history a backend stored with the one the kit committed (payload text and
 * timestamps are not compared).
 */
export function eventSignature(e: HistoryEvent): string {
  switch (e.type) {
    case 'ExecutionStarted':
      return `ExecutionStarted:${e.orchestrationInstance.executionId}`;
    case 'EventRaised':
      return `EventRaised:${e.name}`;
    case 'TaskCompleted':
    case 'TaskFailed':
    case 'SubOrchestrationInstanceCompleted':
    case 'SubOrchestrationInstanceFailed':
      return `${e.type}->${e.taskScheduledId}`;
    case 'TimerFired':
      return `TimerFired->${e.timerId}`;
    case 'ExecutionCompleted':
      return `ExecutionCompleted#${e.eventId}:${e.orchestrationStatus}`;
    case 'TaskScheduled':
    case 'TimerCreated':
    case 'EventSent':
    case 'SubOrchestrationInstanceCreated':
    case 'ContinueAsNew':
      return `${e.type}#${e.eventId}`;
    default:
      return e.type;
  }
}
