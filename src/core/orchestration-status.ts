/**
 * Runtime status of one execution of an orchestration instance, with the
 * Durable Task Framework's names. `Pending` exists only in the instance record
 * before the first episode is checkpointed; `Canceled` is legacy and never
 * produced.
 */
export const OrchestrationStatus = {
  Running: 'Running',
  Completed: 'Completed',
  ContinuedAsNew: 'ContinuedAsNew',
  Failed: 'Failed',
  Canceled: 'Canceled',
  Terminated: 'Terminated',
  Pending: 'Pending',
  Suspended: 'Suspended',
} as const;

export type OrchestrationStatus = (typeof OrchestrationStatus)[keyof typeof OrchestrationStatus];

const ALL = new Set<string>(Object.values(OrchestrationStatus));

/** True for statuses after which an instance processes no more messages. */
export function isTerminalStatus(status: OrchestrationStatus): boolean {
  return (
    status === 'Completed' ||
    status === 'Failed' ||
    status === 'Terminated' ||
    status === 'Canceled'
  );
}

/** True for statuses in which an execution is still alive (may run user code again). */
export function isLiveStatus(status: OrchestrationStatus): boolean {
  return status === 'Pending' || status === 'Running' || status === 'Suspended';
}

export function isOrchestrationStatus(value: unknown): value is OrchestrationStatus {
  return typeof value === 'string' && ALL.has(value);
}
