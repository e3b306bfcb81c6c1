import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { OrchestrationRuntimeState } from '../core/runtime-state.ts';
import { isTerminalStatus } from '../core/orchestration-status.ts';
import type { TaskMessage } from '../core/task-message.ts';

export interface SkippedMessage {
  readonly message: TaskMessage;
  readonly reason: string;
}

export type ReconcileOutcome =
  | { readonly kind: 'applied'; readonly skipped: readonly SkippedMessage[] }
  | { readonly kind: 'discarded'; readonly reason: string };

/**
 * Appends the batch's events to the runtime state, message by message, with
 * the rules of contract.md §2.6 step 4:
 * - R1 a message without an instance id is an error (the work item is abandoned);
 * - R2 a damaged history, or (added here) an execution that already reached
 *   a final status, discards the whole batch;
 * - R3 a new instance whose first message is not its start discards the batch;
 * - R4 a rewind request (not supported) is skipped, and discards the batch
 *   when it came with other messages;
 * - R5 a second start, or a message for another execution, is skipped;
 * - R6 anything else is appended.
 */
export function reconcileMessages(
  state: OrchestrationRuntimeState,
  messages: readonly TaskMessage[],
): ReconcileOutcome {
  const skipped: SkippedMessage[] = [];
  for (const m of messages) {
    if (!m.orchestrationInstance?.instanceId) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `A ${m.event.type} message in the batch has no instance id.`);
    }
    if (!state.isValid) return { kind: 'discarded',
      reason: 'the stored history has no start event' };
    if (state.executionStartedEvent && isTerminalOrContinued(state)) {
      return { kind: 'discarded',
        reason: `the execution already ended (${state.orchestrationStatus})` };
    }
    const e = m.event;
    if (state.events.length === 1 && e.type !== 'ExecutionStarted') {
      return { kind: 'discarded', reason: `a new instance received ${e.type} before its start` };
    }
    // TODO: rewind (contract.md §3.13) is not implemented; a rewind request is skipped.
    if (e.type === 'ExecutionRewound') {
      if (messages.length > 1) {
        return { kind: 'discarded', reason: 'a rewind request came with other messages' };
      }
      skipped.push({ message: m, reason: 'rewind is not supported' });
      continue;
    }
    if (e.type === 'ExecutionStarted' && state.executionStartedEvent) {
      skipped.push({ message: m, reason: 'duplicate start' });
      continue;
    }
    const target = m.orchestrationInstance.executionId;
    const current = state.orchestrationInstance?.executionId;
    if (e.type !== 'ExecutionStarted' && target && current && target !== current) {
      skipped.push({ message: m,
        reason: `addressed to execution ${target}, current is ${current}` });
      continue;
    }
    state.addEvent(e);
  }
  return { kind: 'applied', skipped };
}

function isTerminalOrContinued(state: OrchestrationRuntimeState): boolean {
  const status = state.orchestrationStatus;
  return isTerminalStatus(status) || status === 'ContinuedAsNew';
}
