// Public surface of the runtime layer. The package entry (src/index.ts) re-exports from here.

// ---- orchestrator and activity authoring
export type {
  OrchestrationContext,
  OrchestrationLogger,
  Orchestrator,
  OrchestratorGenerator,
  InlineOutput,
  TaskResult,
  TaskResults,
  CallActivityOptions,
  CallSubOrchestrationOptions,
  StartSubOrchestrationOptions,
  WaitForExternalEventOptions,
  ContinueAsNewOptions,
} from './orchestration-context.ts';
export type { Activity, ActivityContext } from './activity-context.ts';
export { Task, TimerTask, isTask } from './task.ts';
export type { TaskState } from './task.ts';
export { RetryPolicy } from './retry-policy.ts';
export type { RetryOptions } from './retry-policy.ts';
export { ExternalEventTimeoutError, TimerCancelledError } from './task-errors.ts';
export { FIRE_AND_FORGET_TAG } from './tags.ts';

// ---- replay core (pure; usable without a backend)
export { OrchestrationExecutor, SPLIT_TIMER_ID } from './orchestration-executor.ts';
export type { ExecutorOptions, ExecutionResult } from './orchestration-executor.ts';
export type {
  OrchestratorAction,
  ScheduleTaskAction,
  CreateTimerAction,
  CreateSubOrchestrationAction,
  SendEventAction,
  CompleteOrchestrationAction,
  CompletionStatus,
} from './orchestrator-action.ts';
export { deterministicGuid } from './deterministic-guid.ts';

// ---- episode (dispatcher building blocks)
export {
  runEpisode,
  nextExecution,
  MAX_CONTINUE_AS_NEW_PER_EPISODE,
} from './orchestration-episode.ts';
export type { EpisodeInput, EpisodeOptions, EpisodeOutcome } from './orchestration-episode.ts';
export { ensureExecutionStartedIsFirst } from './start-event-ordering.ts';
export { reconcileMessages } from './reconcile-messages.ts';
export { applyDecision } from './apply-decisions.ts';

// ---- worker and client
export { TaskHubWorker } from './task-hub-worker.ts';
export { VersionMismatchError, compareVersions } from './versioning.ts';
export type { VersioningOptions } from './versioning.ts';
export { DEFAULT_UNKNOWN_TYPE_RETRY_MS } from './unknown-type.ts';
export type { TaskHubWorkerOptions } from './task-hub-worker.ts';
export { TaskHubClient, DEFAULT_WAIT_TIMEOUT_MS } from './task-hub-client.ts';
export type {
  TaskHubClientOptions,
  CreateOrchestrationInstanceOptions,
  WaitForOrchestrationOptions,
} from './task-hub-client.ts';
export type {
  OrchestrationMiddleware,
  OrchestrationMiddlewareContext,
  OrchestrationDecisions,
  ActivityMiddleware,
  ActivityMiddlewareContext,
} from './middleware.ts';

// ---- dispatcher building blocks (for backends' tests and the conformance suite)
export { OrchestrationDispatcher } from './orchestration-dispatcher.ts';
export type { OrchestrationDispatcherOptions } from './orchestration-dispatcher.ts';
export { ActivityDispatcher } from './activity-dispatcher.ts';
export type { ActivityDispatcherOptions } from './activity-dispatcher.ts';
export { WorkItemDispatcher } from './work-item-dispatcher.ts';
export type { WorkItemDispatcherOptions } from './work-item-dispatcher.ts';
export { renewalDelayMs } from './lock-renewal.ts';
export { Registry } from './registry.ts';
