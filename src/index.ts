// Public entry of durabletask-nats. Named exports only, grouped by layer.

// ---- core: data types
export {
  OrchestrationStatus,
  isTerminalStatus,
  isLiveStatus,
} from './core/orchestration-status.ts';
export type {
  HistoryEvent,
  EventType,
  Tags,
  ExecutionStartedEvent,
  ExecutionCompletedEvent,
  TaskScheduledEvent,
  TaskCompletedEvent,
  TaskFailedEvent,
  TimerCreatedEvent,
  TimerFiredEvent,
  EventRaisedEvent,
} from './core/history-event.ts';
export { newEvent, isHistoryEvent } from './core/history-event.ts';
export type { OrchestrationInstance, ParentInstance } from './core/orchestration-instance.ts';
export type { OrchestrationState } from './core/orchestration-state.ts';
export type { FailureDetails } from './core/failure-details.ts';
export { failureFromError, failureToString } from './core/failure-details.ts';
export type { TaskMessage } from './core/task-message.ts';
export { OrchestrationRuntimeState, buildOrchestrationState } from './core/runtime-state.ts';

// ---- core: errors
export {
  ErrorCode,
  DurableTaskError,
  isDurableTaskError,
  TaskFailedError,
  SubOrchestrationFailedError,
  NonDeterminismError,
  SessionAbortedError,
  LockLostError,
} from './core/errors.ts';

// ---- core: contracts
export type {
  OrchestrationService,
  ContinueAsNewEventBehaviour,
} from './core/orchestration-service.ts';
export type {
  OrchestrationServiceClient,
  CreateOrchestrationOptions,
  WaitOptions,
  PurgeInstanceFilter,
  PurgeResult,
  OrchestrationQuery,
  OrchestrationQueryResult,
  DedupeRule,
} from './core/orchestration-service-client.ts';
export type {
  OrchestrationWorkItem,
  ActivityWorkItem,
  OrchestrationCompletion,
} from './core/work-item.ts';
export type { Backend } from './core/backend.ts';
export { validateInstanceId, validateHubName, MAX_INSTANCE_ID_LENGTH } from './core/validation.ts';

// ---- utilities
export type { Clock } from './util/clock.ts';
export { systemClock } from './util/clock.ts';

// ---- runtime: authoring orchestrations and activities, worker and client
export type {
  OrchestrationContext,
  OrchestrationLogger,
  Orchestrator,
  OrchestratorGenerator,
  CallActivityOptions,
  CallSubOrchestrationOptions,
  StartSubOrchestrationOptions,
  WaitForExternalEventOptions,
  ContinueAsNewOptions,
  Activity,
  ActivityContext,
  RetryOptions,
  TaskHubWorkerOptions,
  TaskHubClientOptions,
  CreateOrchestrationInstanceOptions,
  WaitForOrchestrationOptions,
  OrchestrationMiddleware,
  OrchestrationMiddlewareContext,
  ActivityMiddleware,
  ActivityMiddlewareContext,
  VersioningOptions,
} from './runtime/index.ts';
export {
  Task,
  TimerTask,
  isTask,
  RetryPolicy,
  ExternalEventTimeoutError,
  TimerCancelledError,
  TaskHubWorker,
  TaskHubClient,
  OrchestrationExecutor,
  VersionMismatchError,
} from './runtime/index.ts';

// ---- backends
export { createMemoryBackend } from './memory/index.ts';
export type { MemoryBackend, MemoryBackendOptions } from './memory/index.ts';
export { createNatsBackend } from './nats/index.ts';
export type { NatsBackend, NatsBackendOptions } from './nats/index.ts';
