import type { TaskMessage } from './task-message.ts';
import type {
  ActivityWorkItem, OrchestrationCompletion, OrchestrationWorkItem,
} from './work-item.ts';

/**
 * Fault-injection hooks for tests that every backend takes as an option
 * (`faults`), with one meaning. A backend keeps its own copy, which tests
 * may change while it runs; counters count down per injected fault.
 */
export interface WorkItemFaultHooks {
  /** Fail this many upcoming orchestration checkpoints with BACKEND_ERROR, before any effect. */
  failCheckpoints?: number;
  /** Fail this many upcoming activity completions with BACKEND_ERROR, before any effect. */
  failActivityCompletions?: number;
  /** Fail this many upcoming orchestration lock renewals with BACKEND_ERROR. */
  failOrchestrationRenewals?: number;
  /** Fail this many upcoming activity lock renewals with BACKEND_ERROR. */
  failActivityRenewals?: number;
  /**
   * Runs after the lock check of every checkpoint, before any effect; a throw
   * fails the checkpoint with no effect. It may wait (a stalled writer): the
   * lock is checked again after it, so a lock that lapsed meanwhile fails the
   * checkpoint.
   */
  beforeCheckpoint?: (item: OrchestrationWorkItem, completion: OrchestrationCompletion) =>
    void | Promise<void>;
  /** Same as `beforeCheckpoint`, for activity completions. */
  beforeActivityCompletion?: (item: ActivityWorkItem, response: TaskMessage) =>
    void | Promise<void>;
}
