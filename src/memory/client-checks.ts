import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { isHistoryEvent, type ExecutionStartedEvent } from '../core/history-event.ts';
import { isOrchestrationStatus, type OrchestrationStatus } from '../core/orchestration-status.ts';
import type { TaskMessage } from '../core/task-message.ts';
import { validateInstanceId, validateName } from '../core/validation.ts';

function invalid(message: string): DurableTaskError {
  return new DurableTaskError(ErrorCode.INVALID_ARGUMENT, message);
}

function isMessage(value: unknown): value is TaskMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as TaskMessage;
  return isHistoryEvent(m.event) && typeof m.orchestrationInstance === 'object' &&
    m.orchestrationInstance !== null;
}

function optionalText(value: unknown, what: string): void {
  if (value !== undefined && typeof value !== 'string') {
    throw invalid(`The ${what} must be serialized text (a string), got ${typeof value}.`);
  }
}

export interface CheckedCreation {
  readonly event: ExecutionStartedEvent;
  readonly instanceId: string;
  readonly executionId: string;
}

/** Checks a creation message: an ExecutionStarted with consistent ids, a name and sane fields. */
export function checkCreation(message: TaskMessage): CheckedCreation {
  if (!isMessage(message)) {
    throw invalid('The creation message must be a task message with a history event.');
  }
  const event = message.event;
  if (event.type !== 'ExecutionStarted') {
    throw invalid(`The creation message must carry an ExecutionStarted event, got ${event.type}.`);
  }
  const target = event.orchestrationInstance;
  const instanceId = validateInstanceId(target?.instanceId);
  const executionId = target.executionId;
  if (typeof executionId !== 'string' || executionId.length === 0) {
    throw invalid(`The start of instance '${instanceId}' must name an execution id.`);
  }
  const routing = message.orchestrationInstance;
  if (routing.instanceId !== instanceId ||
    (routing.executionId !== undefined && routing.executionId !== executionId)) {
    throw invalid(`The creation message is routed to '${routing.instanceId}' ` +
      `(${String(routing.executionId)}) but starts '${instanceId}' (${executionId}).`);
  }
  validateName(event.name, 'orchestration');
  if (typeof event.version !== 'string') {
    throw invalid('The orchestration version must be a string.');
  }
  optionalText(event.input, 'orchestration input');
  if (event.tags !== undefined && (typeof event.tags !== 'object' || event.tags === null ||
    !Object.values(event.tags).every((v) => typeof v === 'string'))) {
    throw invalid('Orchestration tags must be an object of string values.');
  }
  if (event.scheduledStartTime !== undefined &&
    (typeof event.scheduledStartTime !== 'string' ||
      Number.isNaN(Date.parse(event.scheduledStartTime)))) {
    throw invalid(`The scheduled start time ${JSON.stringify(event.scheduledStartTime)} is not ` +
      'a valid ISO time.');
  }
  return { event, instanceId, executionId };
}

/** null when absent (the rule's default applies); else a list of valid statuses. */
export function checkDedupeStatuses(value: unknown): readonly OrchestrationStatus[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every(isOrchestrationStatus)) {
    throw invalid(`dedupeStatuses must be an array of orchestration statuses, ` +
      `got ${JSON.stringify(value)}.`);
  }
  return value;
}

/** Checks a client-originated message: any event but a start, to a valid instance id. */
export function checkClientMessage(message: TaskMessage): void {
  if (!isMessage(message)) {
    throw invalid('An orchestration message must be a task message with a history event.');
  }
  validateInstanceId(message.orchestrationInstance.instanceId);
  if (message.event.type === 'ExecutionStarted') {
    throw invalid('Start instances with createOrchestration, not with a message.');
  }
  const executionId = message.orchestrationInstance.executionId;
  if (executionId !== undefined && typeof executionId !== 'string') {
    throw invalid('The message\'s execution id must be a string or absent.');
  }
}
