import type { ConnectionStatus } from './connection-status.ts';
import type { OrchestrationRuntimeState } from './runtime-state.ts';
import type { TaskMessage } from './task-message.ts';
import type {
  ActivityWorkItem,
  OrchestrationCompletion,
  OrchestrationWorkItem,
} from './work-item.ts';

/** What happens to events processed after `continueAsNew` in the same episode. */
export type ContinueAsNewEventBehaviour = 'carryover' | 'ignore';

/** Why a work item is given back. Only failures count toward a backend's delivery limit. */
export interface AbandonOptions {
  /**
   * `failure` (the default): processing failed; the delivery counts toward
   * the limit after which the backend dead-letters the message.
   * `not-handled`: this worker did not run it (type not registered, version
   * rejected, worker stopping); it comes back with growing delays but does
   * not count.
   */
  readonly reason?: 'failure' | 'not-handled';
}

/** What a worker runs: the names it registered (backends may route work by them). */
export interface WorkerCapabilities {
  readonly orchestrations: readonly string[];
  readonly activities: readonly string[];
}

/**
 * The worker side of a task hub: provisioning, lifecycle, and the lock /
 * renew / complete / abandon / release contract for orchestration and
 * activity work items. Every backend implements it and keeps the lock
 * invariants INV-1 to INV-9.
 */
export interface OrchestrationService {
  /** Destructive provisioning: delete and recreate queues (and the instance store if asked). */
  create(options?: { recreateInstanceStore?: boolean }): Promise<void>;
  /** Idempotent provisioning, the normal start-up path. */
  createIfNotExists(): Promise<void>;
  delete(options?: { deleteInstanceStore?: boolean }): Promise<void>;
  /** Starts background machinery; work items can be locked only after it. */
  start(): Promise<void>;
  /** Stops background machinery; `forced` does not wait for in-flight work. */
  stop(options?: { forced?: boolean }): Promise<void>;

  /** True when one checkpoint would grow beyond what the backend commits at once. */
  isMaxMessageCountExceeded(currentMessageCount: number, state: OrchestrationRuntimeState): boolean;
  /** Dispatcher-wide back-off after processing a work item threw; 0 = none. */
  getDelayAfterProcessErrorMs(err: unknown): number;
  /** Dispatcher-wide back-off after a lock call threw; 0 = none. */
  getDelayAfterFetchErrorMs(err: unknown): number;
  readonly orchestrationDispatcherCount: number;
  readonly maxConcurrentOrchestrationWorkItems: number;
  readonly activityDispatcherCount: number;
  readonly maxConcurrentActivityWorkItems: number;
  readonly eventBehaviourForContinueAsNew: ContinueAsNewEventBehaviour;

  /**
   * Waits at most `receiveTimeoutMs` for an instance with deliverable messages
   * that no one holds, locks it and returns it; null when nothing came in time
   * or the signal fired.
   */
  lockNextOrchestrationWorkItem(
    receiveTimeoutMs: number,
    signal?: AbortSignal,
  ): Promise<OrchestrationWorkItem | null>;
  /** Extends the lock and updates `item.lockedUntil`; throws `LOCK_LOST` when it is gone. */
  renewOrchestrationWorkItemLock(item: OrchestrationWorkItem): Promise<void>;
  /** The checkpoint: all effects or none, fenced by the lock. */
  completeOrchestrationWorkItem(
    item: OrchestrationWorkItem,
    completion: OrchestrationCompletion,
  ): Promise<void>;
  /** Returns the batch, intact and in order; none of the episode's effects become visible. */
  abandonOrchestrationWorkItem(item: OrchestrationWorkItem, options?: AbandonOptions):
  Promise<void>;
  /** Always called last; idempotent; a batch neither completed nor abandoned is returned. */
  releaseOrchestrationWorkItem(item: OrchestrationWorkItem): Promise<void>;

  lockNextActivityWorkItem(
    receiveTimeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ActivityWorkItem | null>;
  renewActivityWorkItemLock(item: ActivityWorkItem): Promise<ActivityWorkItem>;
  /** Removes the activity message and delivers `responseMessage` to its owner. */
  completeActivityWorkItem(item: ActivityWorkItem, responseMessage: TaskMessage): Promise<void>;
  abandonActivityWorkItem(item: ActivityWorkItem, options?: AbandonOptions): Promise<void>;

  /**
   * Optional: told once, before `start()`, what this worker registered, so a
   * backend can route work to a worker that runs it.
   */
  setCapabilities?(capabilities: WorkerCapabilities): void;

  /**
   * Optional: the backend's connection to its server, for backends that
   * have one (a worker logs its changes and shows its state).
   */
  readonly connection?: ConnectionStatus;
}
