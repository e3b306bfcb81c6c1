import type { DeadLetter, DeadLetterQuery } from './dead-letter.ts';
import type { HistoryEvent } from './history-event.ts';
import type { OrchestrationState } from './orchestration-state.ts';
import type { OrchestrationStatus } from './orchestration-status.ts';
import type { TaskMessage } from './task-message.ts';

/**
 * Rule for creating an instance whose id already exists.
 *
 * - `default`: `dedupeStatuses` lists the statuses that block; without a list
 *   Pending, Running and Suspended block. An existing instance that does not
 *   block is replaced by a new execution (a live one is terminated first).
 * - `legacy`: without a list any existing record blocks; with a list only
 *   those statuses block.
 */
export type DedupeRule = 'default' | 'legacy';

export const DEFAULT_DEDUPE_STATUSES: readonly OrchestrationStatus[] = [
  'Pending',
  'Running',
  'Suspended',
];

export interface CreateOrchestrationOptions {
  /** Statuses of an existing instance that make the create fail with `INSTANCE_EXISTS`. */
  readonly dedupeStatuses?: readonly OrchestrationStatus[] | null;
}

export interface WaitOptions {
  /** Wait for this execution; ContinuedAsNew then counts as final. Absent: follow the latest. */
  readonly executionId?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface PurgeInstanceFilter {
  /** Instances created at or after this time. */
  readonly createdTimeFrom: Date;
  /** ... and before this time (open-ended when absent). */
  readonly createdTimeTo?: Date | null;
  /** Statuses to purge; non-terminal statuses are ignored. Default: all terminal statuses. */
  readonly runtimeStatus?: readonly OrchestrationStatus[] | null;
  /** Stop early after this long and report `isComplete: false`. */
  readonly timeoutMs?: number | null;
}

export interface PurgeResult {
  readonly deletedInstanceCount: number;
  /** true: everything matching is gone; false: the timeout hit; null: no timeout was given. */
  readonly isComplete: boolean | null;
}

export interface OrchestrationQuery {
  readonly runtimeStatus?: readonly OrchestrationStatus[];
  readonly createdTimeFrom?: Date;
  readonly createdTimeTo?: Date;
  readonly instanceIdPrefix?: string;
  readonly name?: string;
  /** Default 100. A page may be shorter while more remain: loop until the token is null. */
  readonly pageSize?: number;
  readonly continuationToken?: string | null;
  /** Default true. */
  readonly fetchInputsAndOutputs?: boolean;
}

export interface OrchestrationQueryResult {
  /** Latest execution of each matching instance. */
  readonly orchestrationState: OrchestrationState[];
  readonly continuationToken: string | null;
}

/** The client side of a task hub. */
export interface OrchestrationServiceClient {
  /**
   * Writes a Pending record and enqueues the start message, atomically with
   * respect to other creates of the same id. `creationMessage.event` must be
   * an `ExecutionStarted`. Fails with `INSTANCE_EXISTS` when dedupe blocks.
   */
  createOrchestration(
    creationMessage: TaskMessage,
    options?: CreateOrchestrationOptions,
  ): Promise<void>;
  /** Client-originated message; fails with `INSTANCE_NOT_FOUND` for an unknown instance. */
  sendOrchestrationMessage(message: TaskMessage): Promise<void>;
  sendOrchestrationMessageBatch(messages: readonly TaskMessage[]): Promise<void>;
  /** Resolves with the final state, or null when the timeout passed first. */
  waitForOrchestration(
    instanceId: string,
    options: WaitOptions,
  ): Promise<OrchestrationState | null>;
  /** Terminates the current execution; with `recursive`, its live sub-orchestrations too. */
  forceTerminateOrchestration(
    instanceId: string,
    reason?: string,
    options?: { recursive?: boolean },
  ): Promise<void>;
  /** Latest execution first; all executions with `allExecutions`; empty for an unknown id. */
  getOrchestrationState(
    instanceId: string,
    options?: { allExecutions?: boolean },
  ): Promise<OrchestrationState[]>;
  getOrchestrationStateOfExecution(
    instanceId: string,
    executionId: string,
  ): Promise<OrchestrationState | null>;
  /** History of one execution (the latest when absent). */
  getOrchestrationHistory(instanceId: string, executionId?: string): Promise<HistoryEvent[]>;
  /** Removes every trace of a finished instance; `NOT_COMPLETED` when it is still live. */
  purgeInstanceState(instanceId: string, options?: { recursive?: boolean }): Promise<PurgeResult>;
  purgeInstances(filter: PurgeInstanceFilter): Promise<PurgeResult>;
  queryInstances(
    query: OrchestrationQuery,
    signal?: AbortSignal,
  ): Promise<OrchestrationQueryResult>;
  /** Optional: messages the backend dead-lettered, oldest first. */
  listDeadLetters?(query?: DeadLetterQuery): Promise<DeadLetter[]>;
}
