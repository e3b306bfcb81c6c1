import type { FailureDetails } from './failure-details.ts';
import type { Tags } from './history-event.ts';
import type { ParentInstance } from './orchestration-instance.ts';
import type { OrchestrationStatus } from './orchestration-status.ts';

/** The queryable status record of one execution of an instance. */
export interface OrchestrationState {
  readonly orchestrationInstance: { readonly instanceId: string; readonly executionId: string };
  readonly parentInstance?: ParentInstance;
  readonly name: string;
  readonly version: string;
  readonly orchestrationStatus: OrchestrationStatus;
  /** Custom status set by the orchestrator, serialized; `"null"` is kept as such. */
  readonly customStatus?: string | null;
  readonly input?: string;
  /**
   * Completed: the result; Failed: `<errorType>: <message>`; Terminated: the
   * reason; ContinuedAsNew: the next input.
   */
  readonly output?: string;
  readonly tags?: Tags;
  readonly createdTime: Date;
  readonly lastUpdatedTime: Date;
  /** Null while the execution has not reached a final status. */
  readonly completedTime: Date | null;
  readonly scheduledStartTime: Date | null;
  readonly failureDetails?: FailureDetails;
  /** Approximate size in bytes of the stored history. */
  readonly size?: number;
  readonly generation?: number;
}

/** JSON form of an `OrchestrationState`, with times as ISO strings. */
export type StoredOrchestrationState = Omit<
  OrchestrationState,
  'createdTime' | 'lastUpdatedTime' | 'completedTime' | 'scheduledStartTime'
> & {
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly completedTime: string | null;
  readonly scheduledStartTime: string | null;
};

export function toStoredState(state: OrchestrationState): StoredOrchestrationState {
  return {
    ...state,
    createdTime: state.createdTime.toISOString(),
    lastUpdatedTime: state.lastUpdatedTime.toISOString(),
    completedTime: state.completedTime ? state.completedTime.toISOString() : null,
    scheduledStartTime: state.scheduledStartTime ? state.scheduledStartTime.toISOString() : null,
  };
}

export function fromStoredState(stored: StoredOrchestrationState): OrchestrationState {
  return {
    ...stored,
    createdTime: new Date(stored.createdTime),
    lastUpdatedTime: new Date(stored.lastUpdatedTime),
    completedTime: stored.completedTime ? new Date(stored.completedTime) : null,
    scheduledStartTime: stored.scheduledStartTime ? new Date(stored.scheduledStartTime) : null,
  };
}
