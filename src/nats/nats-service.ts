import type { HubLifecycle } from '../../actors/task-hub-lifecycle.ts';
import type { ConnectionStatus } from '../core/connection-status.ts';
import { isDurableTaskError } from '../core/errors.ts';
import type {
  AbandonOptions, ContinueAsNewEventBehaviour, OrchestrationService, WorkerCapabilities,
} from '../core/orchestration-service.ts';
import type { OrchestrationRuntimeState } from '../core/runtime-state.ts';
import type { TaskMessage } from '../core/task-message.ts';
import { validateTimeoutMs } from '../core/validation.ts';
import type {
  ActivityWorkItem, OrchestrationCompletion, OrchestrationWorkItem,
} from '../core/work-item.ts';
import type { ActivityRuntime } from './activity-runtime.ts';
import type { FaultInjector } from './fault-hooks.ts';
import type { OrchestrationEngine } from './orchestration-engine.ts';
import type { ResolvedNatsOptions } from './options.ts';

/** Fetch/process back-off after a transport or storage failure. */
const BACKEND_ERROR_DELAY_MS = 1_000;

/**
 * The worker side of a NATS task hub. Lifecycle calls go through the task-hub
 * machine; work-item calls are checked by the work-item machine and served by
 * the orchestration engine and the activity runtime.
 */
export class NatsOrchestrationService implements OrchestrationService {
  readonly orchestrationDispatcherCount: number;
  readonly maxConcurrentOrchestrationWorkItems: number;
  readonly activityDispatcherCount: number;
  readonly maxConcurrentActivityWorkItems: number;
  readonly eventBehaviourForContinueAsNew: ContinueAsNewEventBehaviour = 'carryover';
  /** The NATS connection's state: `reconnecting` during a server outage. */
  readonly connection: ConnectionStatus;

  constructor(
    private readonly lifecycle: HubLifecycle,
    private readonly engine: OrchestrationEngine,
    private readonly activities: ActivityRuntime,
    private readonly options: ResolvedNatsOptions,
    private readonly faults: FaultInjector,
  ) {
    this.orchestrationDispatcherCount = options.orchestrationDispatcherCount;
    this.maxConcurrentOrchestrationWorkItems = options.maxConcurrentOrchestrationWorkItems;
    this.activityDispatcherCount = options.activityDispatcherCount;
    this.maxConcurrentActivityWorkItems = options.maxConcurrentActivityWorkItems;
    this.connection = engine.res.connection;
  }

  create(options?: { recreateInstanceStore?: boolean }): Promise<void> {
    return this.lifecycle.create(options);
  }

  createIfNotExists(): Promise<void> {
    return this.lifecycle.createIfNotExists();
  }

  delete(options?: { deleteInstanceStore?: boolean }): Promise<void> {
    return this.lifecycle.delete(options);
  }

  start(): Promise<void> {
    return this.lifecycle.start();
  }

  stop(options?: { forced?: boolean }): Promise<void> {
    return this.lifecycle.stop(options);
  }

  isMaxMessageCountExceeded(currentMessageCount: number, _state: OrchestrationRuntimeState):
    boolean {
    const max = this.options.maxMessagesPerCheckpoint;
    return max > 0 && currentMessageCount > max;
  }

  getDelayAfterProcessErrorMs(err: unknown): number {
    return isDurableTaskError(err, 'BACKEND_ERROR') ? BACKEND_ERROR_DELAY_MS : 0;
  }

  getDelayAfterFetchErrorMs(err: unknown): number {
    // A hub that is not running (stopped by another worker on this backend) or a closed
    // backend answers at once: wait as long as after a transport failure before asking again.
    if (isDurableTaskError(err, 'BACKEND_ERROR') || isDurableTaskError(err, 'HUB_NOT_RUNNING') ||
      isDurableTaskError(err, 'INVALID_STATE')) return BACKEND_ERROR_DELAY_MS;
    return 0;
  }

  async lockNextOrchestrationWorkItem(receiveTimeoutMs: number, signal?: AbortSignal):
    Promise<OrchestrationWorkItem | null> {
    validateTimeoutMs(receiveTimeoutMs, 'receive timeout');
    this.lifecycle.assertRunning('lock an orchestration work item');
    return this.engine.lockNext(receiveTimeoutMs, signal);
  }

  renewOrchestrationWorkItemLock(item: OrchestrationWorkItem): Promise<void> {
    if (this.faults.armed) this.faults.count('failOrchestrationRenewals', item.instanceId);
    return this.engine.renew(item);
  }

  async completeOrchestrationWorkItem(item: OrchestrationWorkItem,
    completion: OrchestrationCompletion): Promise<void> {
    // The hooks run before the engine's own lock and lease check, which then fences a
    // holder whose lock lapsed while a hook stalled.
    if (this.faults.armed) await this.faults.checkpoint(item, completion);
    return this.engine.complete(item, completion);
  }

  abandonOrchestrationWorkItem(item: OrchestrationWorkItem, options?: AbandonOptions):
    Promise<void> {
    return this.engine.abandon(item, options);
  }

  /** Advertised in this worker's heartbeat; partitions move to workers that run their work. */
  setCapabilities(capabilities: WorkerCapabilities): void {
    this.engine.setCapabilities(capabilities);
  }

  releaseOrchestrationWorkItem(item: OrchestrationWorkItem): Promise<void> {
    return this.engine.release(item);
  }

  async lockNextActivityWorkItem(receiveTimeoutMs: number, signal?: AbortSignal):
    Promise<ActivityWorkItem | null> {
    validateTimeoutMs(receiveTimeoutMs, 'receive timeout');
    this.lifecycle.assertRunning('lock an activity work item');
    return this.activities.lockNext(receiveTimeoutMs, signal);
  }

  renewActivityWorkItemLock(item: ActivityWorkItem): Promise<ActivityWorkItem> {
    if (this.faults.armed) {
      this.faults.count('failActivityRenewals', item.taskMessage?.orchestrationInstance.instanceId);
    }
    return this.activities.renew(item);
  }

  async completeActivityWorkItem(item: ActivityWorkItem, responseMessage: TaskMessage):
    Promise<void> {
    if (this.faults.armed) await this.faults.activityCompletion(item, responseMessage);
    return this.activities.complete(item, responseMessage);
  }

  abandonActivityWorkItem(item: ActivityWorkItem, options?: AbandonOptions): Promise<void> {
    return this.activities.abandon(item, options);
  }
}
