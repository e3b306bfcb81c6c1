import { TaskHubClient, TaskHubWorker } from '../../src/runtime/index.ts';

/** The runtime's public API, as the conformance suite uses it. */
export type {
  Activity,
  ActivityContext,
  OrchestrationContext,
  Orchestrator,
  RetryOptions,
  Task,
} from '../../src/runtime/index.ts';
export { TaskHubClient, TaskHubWorker };

export type CreateInstanceOptions = NonNullable<
  Parameters<TaskHubClient['createOrchestrationInstance']>[1]
>;
