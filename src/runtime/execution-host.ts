import type { ExecutionStartedEvent, Tags } from '../core/history-event.ts';
import type { CompletionClock, Task, TimerTask } from './task.ts';

/**
 * The bookkeeping side of one execution, used by the orchestration context:
 * it hands out action ids, records decisions and open tasks, and buffers
 * external events. The context validates and serializes; the host records.
 */
export interface ExecutionHost {
  readonly clock: CompletionClock;
  readonly isReplaying: boolean;
  /** Epoch ms of the latest OrchestratorStarted processed. */
  readonly currentTimeMs: number;
  readonly started: ExecutionStartedEvent;

  scheduleActivity<T>(name: string, version: string, input?: string, tags?: Tags): Task<T>;
  scheduleTimer(fireAtMs: number): TimerTask;
  /** Returns the task (completed at once for fire-and-forget) and the child's instance id. */
  scheduleSubOrchestration<T>(
    name: string,
    version: string,
    instanceId: string | undefined,
    input: string | undefined,
    tags: Tags | undefined,
    fireAndForget: boolean,
  ): { task: Task<T>; instanceId: string };
  scheduleSendEvent(instanceId: string, name: string, input?: string): void;
  /** A task that completes with the next event of that name (buffered ones first). */
  waitForEvent<T>(name: string): Task<T>;
  /** Withdraws a wait that has not been served yet. */
  cancelEventWait(name: string, task: Task<unknown>): void;
  requestContinueAsNew(input: string | undefined, version: string | undefined,
    preserveUnprocessedEvents: boolean | undefined): void;
  setCustomStatus(serialized: string): void;
  newGuid(): string;
}
