import { newEvent, type HistoryEvent } from '../../../src/core/history-event.ts';

/** Hand-made history events for executor tests; times advance one second per episode. */
export const T0 = Date.parse('2024-01-01T00:00:00.000Z');

export function os(at = T0): HistoryEvent {
  return newEvent({ type: 'OrchestratorStarted' }, at);
}

export function oc(at = T0): HistoryEvent {
  return newEvent({ type: 'OrchestratorCompleted' }, at);
}

export function started(name: string, input?: unknown, opts: {
  instanceId?: string; executionId?: string; tags?: Record<string, string>;
} = {}): HistoryEvent {
  return newEvent({
    type: 'ExecutionStarted',
    orchestrationInstance: {
      instanceId: opts.instanceId ?? 'inst',
      executionId: opts.executionId ?? 'exec',
    },
    name, version: '', input: input === undefined ? undefined : JSON.stringify(input),
    tags: opts.tags,
  }, T0);
}

export function scheduled(id: number, name: string): HistoryEvent {
  return newEvent({ type: 'TaskScheduled', eventId: id, name, version: '' }, T0);
}

export function completed(id: number, result?: unknown): HistoryEvent {
  return newEvent({ type: 'TaskCompleted', taskScheduledId: id,
    result: result === undefined ? undefined : JSON.stringify(result) }, T0);
}

export function failed(id: number, message: string, nonRetriable = false): HistoryEvent {
  return newEvent({ type: 'TaskFailed', taskScheduledId: id, reason: message,
    failureDetails: { errorType: 'Error', errorMessage: message, isNonRetriable: nonRetriable } },
      T0);
}

export function timerCreated(id: number, fireAt = new Date(T0).toISOString()): HistoryEvent {
  return newEvent({ type: 'TimerCreated', eventId: id, fireAt }, T0);
}

export function timerFired(id: number, fireAt = new Date(T0).toISOString()): HistoryEvent {
  return newEvent({ type: 'TimerFired', timerId: id, fireAt }, T0);
}

export function subCreated(id: number, name: string, instanceId: string): HistoryEvent {
  return newEvent({ type: 'SubOrchestrationInstanceCreated', eventId: id, name, version: '',
    instanceId }, T0);
}

export function raised(name: string, data?: unknown): HistoryEvent {
  return newEvent({ type: 'EventRaised', name,
    input: data === undefined ? undefined : JSON.stringify(data) }, T0);
}

export function suspended(): HistoryEvent {
  return newEvent({ type: 'ExecutionSuspended' }, T0);
}

export function resumed(): HistoryEvent {
  return newEvent({ type: 'ExecutionResumed' }, T0);
}

export function terminated(reason: string): HistoryEvent {
  return newEvent({ type: 'ExecutionTerminated', input: JSON.stringify(reason) }, T0);
}
