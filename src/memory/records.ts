import type { ExecutionStartedEvent } from '../core/history-event.ts';
import type { OrchestrationState } from '../core/orchestration-state.ts';

/** The Pending status record written when an execution is created (client or parent). */
export function pendingState(event: ExecutionStartedEvent, now: number): OrchestrationState {
  const at = new Date(now);
  return {
    orchestrationInstance: {
      instanceId: event.orchestrationInstance.instanceId,
      executionId: event.orchestrationInstance.executionId,
    },
    ...(event.parentInstance ? { parentInstance: event.parentInstance } : {}),
    name: event.name,
    version: event.version,
    orchestrationStatus: 'Pending',
    customStatus: null,
    ...(event.input !== undefined ? { input: event.input } : {}),
    ...(event.tags ? { tags: event.tags } : {}),
    createdTime: at,
    lastUpdatedTime: at,
    completedTime: null,
    scheduledStartTime: event.scheduledStartTime ? new Date(event.scheduledStartTime) : null,
    ...(event.generation !== undefined ? { generation: event.generation } : {}),
  };
}

/** The record of an execution ended by the backend without running (terminate, replace). */
export function terminatedState(
  state: OrchestrationState,
  reason: string | undefined,
  now: number,
): OrchestrationState {
  const at = new Date(now);
  const { output: _drop, ...rest } = state;
  return {
    ...rest,
    orchestrationStatus: 'Terminated',
    ...(reason !== undefined ? { output: reason } : {}),
    lastUpdatedTime: at,
    completedTime: at,
  };
}

/** A copy the caller may change without touching the store. */
export function copyState(state: OrchestrationState, withPayloads = true): OrchestrationState {
  if (withPayloads) return { ...state };
  const { input: _i, output: _o, ...rest } = state;
  return rest;
}
