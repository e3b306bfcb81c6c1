import type { HistoryEvent, Tags } from './history-event.ts';
import type { OrchestrationInstance } from './orchestration-instance.ts';

/**
 * One history event plus its routing. Orchestration-side messages are routed
 * by `orchestrationInstance.instanceId`; when `executionId` is set the message
 * is dropped unless that execution is current. Activity messages
 * (`TaskScheduled`) name their owning instance and execution.
 */
export interface TaskMessage {
  readonly event: HistoryEvent;
  readonly orchestrationInstance: OrchestrationInstance;
  /** Backend-assigned ordinal (stream sequence on NATS); the runtime never reads it. */
  readonly sequenceNumber?: number;
  readonly orchestrationExecutionContext?: { readonly orchestrationTags?: Tags };
}

export function taskMessage(
  event: HistoryEvent,
  orchestrationInstance: OrchestrationInstance,
  tags?: Tags,
): TaskMessage {
  return tags === undefined
    ? { event, orchestrationInstance }
    : { event, orchestrationInstance, orchestrationExecutionContext: { orchestrationTags: tags } };
}
