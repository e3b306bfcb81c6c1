import { setup } from 'xstate';
import type { HistoryEvent } from '../src/core/history-event.ts';
import type { OrchestrationStatus } from '../src/core/orchestration-status.ts';

/**
 * Lifecycle of one execution of an orchestration. The runtime status of an
 * execution is the state this machine reaches after folding its history
 * events, in order, through the pure `transition()`: there is no other source
 * of truth for status.
 *
 * Rules (from the Durable Task Framework's runtime state):
 * - an execution starts `running` (Pending lives only in the instance record);
 * - `ExecutionSuspended` / `ExecutionResumed` move between running and suspended;
 * - the first completion event decides the final status, later ones are
 *   ignored, except that a Terminated completion replaces ContinuedAsNew;
 * - `ExecutionResumed` after completion changes nothing.
 */
/** Where the first completion event of a live execution leads, by its status. */
const COMPLETIONS = [
  { guard: 'isCompleted', target: 'completed' },
  { guard: 'isFailed', target: 'failed' },
  { guard: 'isTerminated', target: 'terminated' },
  { guard: 'isCanceled', target: 'canceled' },
] as const;

export const orchestrationMachine = setup({
  types: {
    events: {} as HistoryEvent,
  },
  guards: {
    isCompleted: ({ event }) => completionStatus(event) === 'Completed',
    isFailed: ({ event }) => completionStatus(event) === 'Failed',
    isTerminated: ({ event }) => completionStatus(event) === 'Terminated',
    isCanceled: ({ event }) => completionStatus(event) === 'Canceled',
  },
}).createMachine({
  id: 'orchestration',
  initial: 'running',
  states: {
    running: {
      on: {
        ExecutionSuspended: { target: 'suspended' },
        ExecutionCompleted: COMPLETIONS,
        ContinueAsNew: { target: 'continuedAsNew' },
      },
    },
    suspended: {
      on: {
        ExecutionResumed: { target: 'running' },
        ExecutionCompleted: COMPLETIONS,
        ContinueAsNew: { target: 'continuedAsNew' },
      },
    },
    continuedAsNew: {
      on: {
        ExecutionCompleted: { guard: 'isTerminated', target: 'terminated' },
      },
    },
    completed: { type: 'final' },
    failed: { type: 'final' },
    terminated: { type: 'final' },
    canceled: { type: 'final' },
  },
});

function completionStatus(event: HistoryEvent): OrchestrationStatus | undefined {
  return event.type === 'ExecutionCompleted' ? event.orchestrationStatus : undefined;
}

export type OrchestrationMachineState =
  | 'running' | 'suspended' | 'continuedAsNew' | 'completed' | 'failed' | 'terminated'
  | 'canceled';

const STATUS_OF: Record<OrchestrationMachineState, OrchestrationStatus> = {
  running: 'Running',
  suspended: 'Suspended',
  continuedAsNew: 'ContinuedAsNew',
  completed: 'Completed',
  failed: 'Failed',
  terminated: 'Terminated',
  canceled: 'Canceled',
};

/** Maps a state of the orchestration machine to the contract's status name. */
export function statusOfState(state: OrchestrationMachineState): OrchestrationStatus {
  return STATUS_OF[state];
}

/** The event types that can change the machine's state; others are ignored by it. */
export const STATUS_EVENT_TYPES: ReadonlySet<HistoryEvent['type']> = new Set([
  'ExecutionSuspended', 'ExecutionResumed', 'ExecutionCompleted', 'ContinueAsNew',
]);
