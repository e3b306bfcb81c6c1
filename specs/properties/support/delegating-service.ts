import type {
  ContinueAsNewEventBehaviour,
  OrchestrationService,
} from '../../../src/core/orchestration-service.ts';
import type { OrchestrationRuntimeState } from '../../../src/core/runtime-state.ts';
import type { TaskMessage } from '../../../src/core/task-message.ts';
import type {
  ActivityWorkItem,
  OrchestrationCompletion,
  OrchestrationWorkItem,
} from '../../../src/core/work-item.ts';

/** An `OrchestrationService` that forwards every call; subclasses change some on purpose. */
export class DelegatingService implements OrchestrationService {
  constructor(protected readonly inner: OrchestrationService) {}

  create(options?: { recreateInstanceStore?: boolean }): Promise<void> {
    return this.inner.create(options);
  }

  createIfNotExists(): Promise<void> {
    return this.inner.createIfNotExists();
  }

  delete(options?: { deleteInstanceStore?: boolean }): Promise<void> {
    return this.inner.delete(options);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  stop(options?: { forced?: boolean }): Promise<void> {
    return this.inner.stop(options);
  }

  isMaxMessageCountExceeded(count: number, state: OrchestrationRuntimeState): boolean {
    return this.inner.isMaxMessageCountExceeded(count, state);
  }

  getDelayAfterProcessErrorMs(err: unknown): number {
    return this.inner.getDelayAfterProcessErrorMs(err);
  }

  getDelayAfterFetchErrorMs(err: unknown): number {
    return this.inner.getDelayAfterFetchErrorMs(err);
  }

  get orchestrationDispatcherCount(): number {
    return this.inner.orchestrationDispatcherCount;
  }

  get maxConcurrentOrchestrationWorkItems(): number {
    return this.inner.maxConcurrentOrchestrationWorkItems;
  }

  get activityDispatcherCount(): number {
    return this.inner.activityDispatcherCount;
  }

  get maxConcurrentActivityWorkItems(): number {
    return this.inner.maxConcurrentActivityWorkItems;
  }

  get eventBehaviourForContinueAsNew(): ContinueAsNewEventBehaviour {
    return this.inner.eventBehaviourForContinueAsNew;
  }

  lockNextOrchestrationWorkItem(
    ms: number,
    signal?: AbortSignal,
  ): Promise<OrchestrationWorkItem | null> {
    return this.inner.lockNextOrchestrationWorkItem(ms, signal);
  }

  renewOrchestrationWorkItemLock(item: OrchestrationWorkItem): Promise<void> {
    return this.inner.renewOrchestrationWorkItemLock(item);
  }

  completeOrchestrationWorkItem(
    item: OrchestrationWorkItem,
    c: OrchestrationCompletion,
  ): Promise<void> {
    return this.inner.completeOrchestrationWorkItem(item, c);
  }

  abandonOrchestrationWorkItem(item: OrchestrationWorkItem): Promise<void> {
    return this.inner.abandonOrchestrationWorkItem(item);
  }

  releaseOrchestrationWorkItem(item: OrchestrationWorkItem): Promise<void> {
    return this.inner.releaseOrchestrationWorkItem(item);
  }

  lockNextActivityWorkItem(ms: number, signal?: AbortSignal): Promise<ActivityWorkItem | null> {
    return this.inner.lockNextActivityWorkItem(ms, signal);
  }

  renewActivityWorkItemLock(item: ActivityWorkItem): Promise<ActivityWorkItem> {
    return this.inner.renewActivityWorkItemLock(item);
  }

  completeActivityWorkItem(item: ActivityWorkItem, response: TaskMessage): Promise<void> {
    return this.inner.completeActivityWorkItem(item, response);
  }

  abandonActivityWorkItem(item: ActivityWorkItem): Promise<void> {
    return this.inner.abandonActivityWorkItem(item);
  }
}
