import { DurableTaskError, ErrorCode, isDurableTaskError } from '../core/errors.ts';
import type {
  AbandonOptions,
  ContinueAsNewEventBehaviour,
  OrchestrationService,
} from '../core/orchestration-service.ts';
import type { OrchestrationRuntimeState } from '../core/runtime-state.ts';
import type { TaskMessage } from '../core/task-message.ts';
import { validateTimeoutMs } from '../core/validation.ts';
import type {
  ActivityWorkItem,
  OrchestrationCompletion,
  OrchestrationWorkItem,
} from '../core/work-item.ts';
import {
  checkpointCommitted,
  checkpointDiscarded,
  faultInjected,
} from '../logging/memory-events.ts';
import { checkActivityResponse } from './activity-locks.ts';
import { applyCheckpoint, planCheckpoint } from './checkpoint.ts';
import type { MemoryEngine } from './memory-engine.ts';
import type { MemoryFaults } from './memory-options.ts';

type CountedFault = 'failCheckpoints' | 'failActivityCompletions' | 'failOrchestrationRenewals' |
  'failActivityRenewals';

/** The worker side of the in-memory backend (see `OrchestrationService`). */
export class MemoryOrchestrationService implements OrchestrationService {
  constructor(private readonly e: MemoryEngine) {}

  // ---- lifecycle (the task-hub machine decides what is allowed)

  create(options?: { recreateInstanceStore?: boolean }): Promise<void> {
    return this.e.lifecycle.create(options);
  }

  createIfNotExists(): Promise<void> {
    return this.e.lifecycle.createIfNotExists();
  }

  delete(options?: { deleteInstanceStore?: boolean }): Promise<void> {
    return this.e.lifecycle.delete(options);
  }

  start(): Promise<void> {
    return this.e.lifecycle.start();
  }

  stop(options?: { forced?: boolean }): Promise<void> {
    return this.e.lifecycle.stop(options);
  }

  // ---- policy

  /** True once a checkpoint holds `maxMessagesPerCheckpoint` outbound messages (never when 0). */
  isMaxMessageCountExceeded(
    currentMessageCount: number,
    _state: OrchestrationRuntimeState,
  ): boolean {
    const max = this.e.opts.maxMessagesPerCheckpoint;
    return max > 0 && currentMessageCount >= max;
  }

  getDelayAfterProcessErrorMs(_err: unknown): number {
    return this.e.opts.processErrorDelayMs;
  }

  getDelayAfterFetchErrorMs(_err: unknown): number {
    return this.e.opts.fetchErrorDelayMs;
  }

  get orchestrationDispatcherCount(): number {
    return this.e.opts.orchestrationDispatcherCount;
  }

  get maxConcurrentOrchestrationWorkItems(): number {
    return this.e.opts.maxConcurrentOrchestrationWorkItems;
  }

  get activityDispatcherCount(): number {
    return this.e.opts.activityDispatcherCount;
  }

  get maxConcurrentActivityWorkItems(): number {
    return this.e.opts.maxConcurrentActivityWorkItems;
  }

  get eventBehaviourForContinueAsNew(): ContinueAsNewEventBehaviour {
    return this.e.opts.eventBehaviourForContinueAsNew;
  }

  // ---- orchestration work items

  async lockNextOrchestrationWorkItem(
    receiveTimeoutMs: number,
    signal?: AbortSignal,
  ): Promise<OrchestrationWorkItem | null> {
    validateTimeoutMs(receiveTimeoutMs, 'receive timeout');
    this.e.lifecycle.assertRunning('lock an orchestration work item');
    this.e.processDue();
    if (signal?.aborted) return null;
    const item = this.e.orchestrations.tryLock(this.e.clock.now(), this.e);
    if (item) return item;
    if (receiveTimeoutMs === 0) return pollMissed();
    const waiting = this.e.orchestrationWaiters.wait(receiveTimeoutMs, signal);
    this.e.tick();
    return waiting;
  }

  async renewOrchestrationWorkItemLock(item: OrchestrationWorkItem): Promise<void> {
    this.e.processDue();
    this.injectCounted('failOrchestrationRenewals', item.instanceId);
    this.e.orchestrations.renew(item, this.e.clock.now(), this.e);
    this.e.tick();
  }

  async completeOrchestrationWorkItem(
    item: OrchestrationWorkItem,
    completion: OrchestrationCompletion,
  ): Promise<void> {
    this.e.processDue();
    let fenced = this.e.orchestrations.fence(item, 'complete', this.e.clock.now(), this.e);
    const plan = planCheckpoint(fenced.rec, fenced.lock, item, completion);
    this.injectCounted('failCheckpoints', item.instanceId);
    const hook = this.e.faults.beforeCheckpoint;
    if (hook) {
      await this.runHook('beforeCheckpoint', item.instanceId, () => hook(item, completion));
      // The hook may have stalled: prove ownership again at the commit point.
      this.e.processDue();
      fenced = this.e.orchestrations.fence(item, 'complete', this.e.clock.now(), this.e);
    }
    const { rec, lock } = fenced;
    const consumed = lock.seqs.size;
    // Marked first: nothing after the first effect may throw (all effects or none).
    this.e.orchestrations.markCompleted(lock);
    applyCheckpoint(this.e.store, rec, lock, completion, plan, this.e.clock.now());
    if (plan.discard) {
      checkpointDiscarded(this.e.log, { instanceId: rec.instanceId, consumed });
    } else {
      checkpointCommitted(this.e.log, {
        instanceId: rec.instanceId,
        executionId: plan.executionId,
        status: plan.state.orchestrationStatus,
        consumed,
        newEvents: completion.newRuntimeState.newEvents.length,
        activities: completion.activityMessages.length,
        messages: completion.orchestratorMessages.length,
        timers: completion.timerMessages.length,
      });
    }
    this.e.tick();
  }

  async abandonOrchestrationWorkItem(item: OrchestrationWorkItem, options?: AbandonOptions):
  Promise<void> {
    this.e.processDue();
    this.e.orchestrations.abandon(item, this.e.clock.now(), this.e,
      options?.reason !== 'not-handled');
    this.e.tick();
  }

  async releaseOrchestrationWorkItem(item: OrchestrationWorkItem): Promise<void> {
    this.e.processDue();
    this.e.orchestrations.release(item, this.e);
    this.e.tick();
  }

  // ---- activity work items

  async lockNextActivityWorkItem(
    receiveTimeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ActivityWorkItem | null> {
    validateTimeoutMs(receiveTimeoutMs, 'receive timeout');
    this.e.lifecycle.assertRunning('lock an activity work item');
    this.e.processDue();
    if (signal?.aborted) return null;
    const item = this.e.activities.tryLock(this.e.clock.now(), this.e);
    if (item) return item;
    if (receiveTimeoutMs === 0) return pollMissed();
    const waiting = this.e.activityWaiters.wait(receiveTimeoutMs, signal);
    this.e.tick();
    return waiting;
  }

  async renewActivityWorkItemLock(item: ActivityWorkItem): Promise<ActivityWorkItem> {
    this.e.processDue();
    this.injectCounted('failActivityRenewals', item.taskMessage?.orchestrationInstance.instanceId);
    const renewed = this.e.activities.renew(item, this.e.clock.now(), this.e);
    this.e.tick();
    return renewed;
  }

  async completeActivityWorkItem(
    item: ActivityWorkItem,
    responseMessage: TaskMessage,
  ): Promise<void> {
    this.e.processDue();
    if (this.e.activities.isRepeat(item, this.e)) return;
    let entry = this.e.activities.fence(item, 'complete', this.e.clock.now(), this.e);
    checkActivityResponse(item, responseMessage);
    const owner = item.taskMessage.orchestrationInstance.instanceId;
    this.injectCounted('failActivityCompletions', owner);
    const hook = this.e.faults.beforeActivityCompletion;
    if (hook) {
      await this.runHook('beforeActivityCompletion', owner, () => hook(item, responseMessage));
      this.e.processDue();
      entry = this.e.activities.fence(item, 'complete', this.e.clock.now(), this.e);
    }
    this.e.activities.complete(entry, responseMessage);
    this.e.tick();
  }

  async abandonActivityWorkItem(item: ActivityWorkItem, options?: AbandonOptions):
  Promise<void> {
    this.e.processDue();
    this.e.activities.abandon(item, this.e.clock.now(), this.e,
      options?.reason !== 'not-handled');
    this.e.tick();
  }

  // ---- faults

  private injectCounted(fault: CountedFault, instanceId: string | undefined): void {
    const faults: MemoryFaults = this.e.faults;
    const left = faults[fault] ?? 0;
    if (left <= 0) return;
    faults[fault] = left - 1;
    faultInjected(this.e.log, { fault, ...(instanceId ? { instanceId } : {}) });
    throw new DurableTaskError(ErrorCode.BACKEND_ERROR,
      `Injected fault '${fault}' (memory backend option faults.${fault}).`);
  }

  private async runHook(name: string, instanceId: string, fn: () => void | Promise<void>):
  Promise<void> {
    try {
      await fn();
    } catch (err) {
      faultInjected(this.e.log, { fault: name, instanceId });
      if (isDurableTaskError(err)) throw err;
      throw new DurableTaskError(ErrorCode.BACKEND_ERROR,
        `Fault hook ${name} failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err });
    }
  }
}

/**
 * A lock call with a zero receive timeout that found nothing: answers null
 * after other I/O had a turn, so a caller polling in a loop cannot starve the process.
 */
function pollMissed(): Promise<null> {
  return new Promise((resolve) => setImmediate(() => resolve(null)));
}
