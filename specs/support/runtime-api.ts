import type { Logger } from 'pino';
import type { Backend } from '../../src/core/backend.ts';
import type { HistoryEvent, Tags } from '../../src/core/history-event.ts';
import type { OrchestrationState } from '../../src/core/orchestration-state.ts';
import type { OrchestrationStatus } from '../../src/core/orchestration-status.ts';
import type {
  OrchestrationQuery,
  OrchestrationQueryResult,
  PurgeInstanceFilter,
  PurgeResult,
} from '../../src/core/orchestration-service-client.ts';
import type { ParentInstance } from '../../src/core/orchestration-instance.ts';
import { probeExport } from './module-probe.ts';

/**
 * The runtime's public API as the team briefing fixes it, written
 * structurally so that the conformance suite compiles before the runtime has
 * landed, and checks at run time that the runtime keeps that shape.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Yielded = any;

export interface DurableTask {
  readonly isCompleted?: boolean;
  /** The task's result once it completed (read after `whenAny` picks it). */
  readonly result?: Yielded;
}

export interface TimerTask extends DurableTask {
  cancel(): void;
}

export interface RetryPolicy {
  readonly firstRetryIntervalMs: number;
  readonly maxNumberOfAttempts: number;
  readonly backoffCoefficient?: number;
  readonly maxRetryIntervalMs?: number;
  readonly retryTimeoutMs?: number;
  handle?(failure: unknown): boolean;
}

export interface OrchestrationContext {
  readonly instanceId: string;
  readonly executionId: string;
  readonly name: string;
  readonly version: string;
  readonly parent?: ParentInstance;
  readonly tags: Tags;
  readonly isReplaying: boolean;
  readonly currentUtcDateTime: Date;
  readonly log: Logger;
  callActivity(name: string, input?: unknown,
    options?: { retry?: RetryPolicy; tags?: Tags; version?: string }): DurableTask;
  callSubOrchestration(name: string, input?: unknown,
    options?: { instanceId?: string; retry?: RetryPolicy; tags?: Tags; version?: string },
  ): DurableTask;
  startSubOrchestration(name: string, input?: unknown,
    options?: { instanceId?: string; tags?: Tags; version?: string }): unknown;
  createTimer(fireAt: Date | number): TimerTask;
  waitForExternalEvent(name: string, options?: { timeoutMs?: number }): DurableTask;
  whenAll(tasks: readonly DurableTask[]): DurableTask;
  whenAny(tasks: readonly DurableTask[]): DurableTask;
  continueAsNew(input: unknown,
    options?: { preserveUnprocessedEvents?: boolean; version?: string }): void;
  sendEvent(instanceId: string, name: string, data?: unknown): void;
  setCustomStatus(value: unknown): void;
  newGuid(): string;
}

export type Orchestrator = (
  ctx: OrchestrationContext,
  input: Yielded,
) => Generator<Yielded, unknown, Yielded>;

export interface ActivityContext {
  readonly instanceId: string;
  readonly executionId: string;
  readonly taskId: number;
  readonly name: string;
  readonly tags: Tags;
  readonly deliveryCount: number;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

export type Activity = (ctx: ActivityContext, input: Yielded) => unknown;

export interface TaskHubWorker {
  addOrchestration(name: string, fn: Orchestrator, options?: { version?: string }): unknown;
  addActivity(name: string, fn: Activity, options?: { version?: string }): unknown;
  start(): Promise<void>;
  stop(options?: { forced?: boolean }): Promise<void>;
}

export interface CreateInstanceOptions {
  readonly input?: unknown;
  readonly instanceId?: string;
  readonly version?: string;
  readonly tags?: Tags;
  readonly startAt?: Date;
  readonly dedupeStatuses?: readonly OrchestrationStatus[];
  readonly initialEvent?: { readonly name: string; readonly data?: unknown };
}

export interface TaskHubClient {
  createOrchestrationInstance(name: string, options?: CreateInstanceOptions):
    Promise<{ instanceId: string; executionId: string }>;
  waitForOrchestration(instanceId: string,
    options?: { timeoutMs?: number; signal?: AbortSignal; executionId?: string }):
    Promise<OrchestrationState | null>;
  raiseEvent(instanceId: string, name: string, data?: unknown): Promise<void>;
  terminate(instanceId: string, reason?: string, options?: { recursive?: boolean }): Promise<void>;
  suspend(instanceId: string, reason?: string): Promise<void>;
  resume(instanceId: string, reason?: string): Promise<void>;
  getOrchestrationState(instanceId: string, options?: { executionId?: string }):
    Promise<OrchestrationState | null>;
  getOrchestrationStates(instanceId: string): Promise<OrchestrationState[]>;
  getOrchestrationHistory(instanceId: string, executionId?: string): Promise<HistoryEvent[]>;
  purgeInstance(instanceId: string, options?: { recursive?: boolean }): Promise<PurgeResult>;
  purgeInstances(filter: PurgeInstanceFilter): Promise<PurgeResult>;
  queryInstances(query: OrchestrationQuery): Promise<OrchestrationQueryResult>;
}

export interface RuntimeModule {
  readonly TaskHubWorker: new (options: { backend: Backend; logger?: Logger } &
    Record<string, unknown>) => TaskHubWorker;
  readonly TaskHubClient: new (options: { backend: Backend; logger?: Logger }) => TaskHubClient;
}

const RUNTIME_CANDIDATES = [
  '../../src/runtime/index.ts',
  '../../src/runtime/task-hub-worker.ts',
];
const CLIENT_CANDIDATES = [
  '../../src/runtime/index.ts',
  '../../src/runtime/task-hub-client.ts',
];

let loaded: Promise<RuntimeModule | string> | undefined;

/** The runtime classes, or a reason string when the runtime has not landed yet. */
export function loadRuntime(): Promise<RuntimeModule | string> {
  loaded ??= (async () => {
    const worker = await probeExport<RuntimeModule['TaskHubWorker']>(
      RUNTIME_CANDIDATES, 'TaskHubWorker');
    const client = await probeExport<RuntimeModule['TaskHubClient']>(
      CLIENT_CANDIDATES, 'TaskHubClient');
    if ('missing' in worker) return `runtime not built yet: ${worker.missing}`;
    if ('missing' in client) return `runtime not built yet: ${client.missing}`;
    return { TaskHubWorker: worker.value, TaskHubClient: client.value };
  })();
  return loaded;
}
