import type { Logger } from 'pino';
import { DurableTaskError, ErrorCode, isDurableTaskError } from '../core/errors.ts';
import { failureFromError } from '../core/failure-details.ts';
import {
  newEvent,
  type TaskCompletedEvent,
  type TaskFailedEvent,
  type TaskScheduledEvent,
} from '../core/history-event.ts';
import type { OrchestrationService } from '../core/orchestration-service.ts';
import { deserializePayload, serializePayload } from '../core/payload.ts';
import { taskMessage } from '../core/task-message.ts';
import type { ActivityWorkItem } from '../core/work-item.ts';
import * as events from '../logging/runtime-events.ts';
import type { Clock } from '../util/clock.ts';
import type { Activity, ActivityContext } from './activity-context.ts';
import { LazyAbort } from './lazy-abort.ts';
import { startRenewal } from './lock-renewal.ts';
import {
  runMiddleware,
  type ActivityMiddleware,
  type ActivityMiddlewareContext,
} from './middleware.ts';
import type { Registry } from './registry.ts';
import { unknownTypeFailure } from './unknown-type.ts';
import { WorkItemDispatcher } from './work-item-dispatcher.ts';

export interface ActivityDispatcherOptions {
  readonly service: OrchestrationService;
  readonly registry: Registry<Activity>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly middleware: readonly ActivityMiddleware[];
  readonly maxConcurrent: number;
  readonly dispatcherCount: number;
  readonly receiveTimeoutMs: number;
  /**
   * How long an unregistered activity is retried before it fails (the orchestration sees a
   * TaskFailed).
   */
  readonly unknownTypeRetryMs: number;
}

/** Completions finishing in the background per dispatcher slot, at most. */
const COMPLETIONS_PER_SLOT = 4;
/** Longest wait for background completions when the dispatcher stops. */
const COMPLETION_DRAIN_MS = 10_000;

function describe(item: ActivityWorkItem): string {
  const e = item.taskMessage.event;
  const name = e.type === 'TaskScheduled' ? e.name : e.type;
  return `${item.taskMessage.orchestrationInstance?.instanceId}:${name}#${e.eventId}`;
}

/**
 * Runs activity work items (contract.md §2.10): validates the message,
 * resolves the activity, runs it through middleware with an AbortSignal,
 * renews the lock at a third of its length, and answers with `TaskCompleted`
 * or `TaskFailed` through `completeActivityWorkItem`. A missing activity,
 * a middleware error, a lost lock or a forced stop abandon the work item.
 */
export class ActivityDispatcher {
  readonly #o: ActivityDispatcherOptions;
  readonly #dispatcher: WorkItemDispatcher<ActivityWorkItem>;
  /** Completions (result publish + ack) still running after their slot was given back. */
  readonly #completing = new Set<Promise<void>>();

  constructor(options: ActivityDispatcherOptions) {
    this.#o = options;
    const { service } = options;
    this.#dispatcher = new WorkItemDispatcher<ActivityWorkItem>({
      name: 'activity',
      logger: options.logger,
      clock: options.clock,
      maxConcurrent: options.maxConcurrent,
      dispatcherCount: options.dispatcherCount,
      receiveTimeoutMs: options.receiveTimeoutMs,
      fetch: (timeout, signal) => service.lockNextActivityWorkItem(timeout, signal),
      process: (item, signal) => this.process(item, signal),
      releaseUnprocessed: (item) => service.abandonActivityWorkItem(item,
        { reason: 'not-handled' }),
      delayAfterFetchErrorMs: (err) => service.getDelayAfterFetchErrorMs(err),
      delayAfterProcessErrorMs: (err) => service.getDelayAfterProcessErrorMs(err),
      describe,
    });
  }

  start(): void {
    this.#dispatcher.start();
  }

  async stop(options: { forced?: boolean; timeoutMs?: number } = {}): Promise<void> {
    await this.#dispatcher.stop(options);
    if (this.#completing.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#completing]),
      new Promise((r) => { timer = setTimeout(r, COMPLETION_DRAIN_MS); }),
    ]);
    clearTimeout(timer);
  }

  /** Processes one work item; throws only for errors the process-delay hook should see. */
  async process(item: ActivityWorkItem, stopSignal: AbortSignal): Promise<void> {
    const { service, logger, clock } = this.#o;
    const scheduled = this.#validate(item);
    const owner = item.taskMessage.orchestrationInstance;

    // The activity's signal is made only if the activity or a middleware reads it.
    const controller = new LazyAbort(stopSignal);
    let current = item;
    const renewal = startRenewal({
      clock,
      lockedUntil: () => current.lockedUntil.getTime(),
      renew: async () => {
        current = await service.renewActivityWorkItemLock(current);
      },
      onFailure: (err) => {
        events.lockRenewalFailed(logger, { kind: 'activity', workItem: describe(item), err });
        controller.abort(new DurableTaskError(ErrorCode.LOCK_LOST,
          `The lock of activity ${describe(item)} could not be renewed.`, { cause: err }));
      },
    });

    let response: TaskCompletedEvent | TaskFailedEvent;
    try {
      response = await this.#run(current, scheduled, controller);
    } catch (err) {
      await this.#abandon(current, isDurableTaskError(err, ErrorCode.UNKNOWN_ACTIVITY)
        ? 'unknown activity' : 'activity could not run', err);
      if (isDurableTaskError(err, ErrorCode.UNKNOWN_ACTIVITY) ||
        isDurableTaskError(err, ErrorCode.SESSION_ABORTED)) return;
      throw err;
    } finally {
      renewal.stop();
      controller.dispose();
    }

    if (controller.aborted) {
      await this.#abandon(current, renewal.failed ? 'lock lost' : 'worker stopped by force');
      return;
    }
    // The slot is given back now; the completion finishes in a bounded background pipeline.
    // A failed completion abandons the work item, so the message comes back and reruns.
    const done = service.completeActivityWorkItem(current, taskMessage(response, owner))
      .catch(async (err: unknown) => {
        await this.#abandon(current, 'completion failed', err);
        if (isDurableTaskError(err, ErrorCode.LOCK_LOST) ||
          isDurableTaskError(err, ErrorCode.SESSION_ABORTED)) return;
        events.processingFailed(logger, { kind: 'activity', workItem: describe(item), err });
      })
      .finally(() => this.#completing.delete(done));
    this.#completing.add(done);
    const cap = Math.max(1, this.#o.maxConcurrent) * COMPLETIONS_PER_SLOT;
    // Bounded: each round waits for one completion to settle.
    for (let i = 0; i < cap && this.#completing.size > cap; i++) {
      await Promise.race(this.#completing);
    }
  }

  #validate(item: ActivityWorkItem): TaskScheduledEvent {
    const e = item.taskMessage?.event;
    if (e?.type !== 'TaskScheduled' || !e.name) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `Activity work item ${item.id} does not hold a TaskScheduled event with a name.`);
    }
    if (!item.taskMessage.orchestrationInstance?.instanceId) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `Activity work item ${item.id} does not name its orchestration instance.`);
    }
    return e;
  }

  async #abandon(item: ActivityWorkItem, reason: string, err?: unknown): Promise<void> {
    events.workItemAbandoned(this.#o.logger, { kind: 'activity', workItem: describe(item), reason,
      err });
    // An activity no worker here runs comes back with growing delays but is no failure.
    const service = this.#o.service;
    await (isDurableTaskError(err, ErrorCode.UNKNOWN_ACTIVITY)
      ? service.abandonActivityWorkItem(item, { reason: 'not-handled' })
      : service.abandonActivityWorkItem(item)).catch(() => undefined);
  }

  async #run(
    item: ActivityWorkItem,
    scheduled: TaskScheduledEvent,
    abort: LazyAbort,
  ): Promise<TaskCompletedEvent | TaskFailedEvent> {
    const owner = item.taskMessage.orchestrationInstance;
    const tags = { ...item.taskMessage.orchestrationExecutionContext?.orchestrationTags,
      ...scheduled.tags };
    const ctx: ActivityMiddlewareContext = {
      workItem: item,
      instanceId: owner.instanceId,
      executionId: owner.executionId ?? '',
      name: scheduled.name,
      version: scheduled.version,
      taskId: scheduled.eventId,
      input: scheduled.input,
      tags,
      get signal() { return abort.signal; },
    };
    const invoke = async (): Promise<void> => {
      ctx.response = await this.#invoke(ctx, item.deliveryCount);
    };
    if (this.#o.middleware.length === 0) await invoke();
    else await runMiddleware(this.#o.middleware, ctx, invoke);
    return ctx.response ?? newEvent({ type: 'TaskCompleted', taskScheduledId: scheduled.eventId },
      this.#o.clock.now());
  }

  async #invoke(c: ActivityMiddlewareContext,
    deliveryCount: number): Promise<TaskCompletedEvent | TaskFailedEvent> {
    const fn = this.#o.registry.get(c.name, c.version);
    if (!fn) {
      const now = this.#o.clock.now();
      const waited = now - Date.parse(c.workItem.taskMessage.event.timestamp);
      events.unknownActivity(this.#o.logger, { instanceId: c.instanceId, executionId: c.executionId,
        name: c.name, version: c.version, waitedMs: waited });
      if (waited >= this.#o.unknownTypeRetryMs) {
        const failureDetails = unknownTypeFailure('activity', c.name, c.version, waited);
        return newEvent({ type: 'TaskFailed', taskScheduledId: c.taskId,
          reason: failureDetails.errorMessage, failureDetails }, now);
      }
      throw new DurableTaskError(ErrorCode.UNKNOWN_ACTIVITY,
        `No activity named '${c.name}'${c.version ? ` (version '${c.version}')` : ''} ` +
        'is registered on this worker.');
    }
    const base = this.#o.logger;
    let log: ActivityContext['log'] | undefined;
    const ctx: ActivityContext = {
      instanceId: c.instanceId, executionId: c.executionId, taskId: c.taskId, name: c.name,
      version: c.version, tags: c.tags, deliveryCount,
      get signal() { return c.signal; },
      // The child logger is made on first use: most activities never log.
      get log() {
        log ??= base.child({ instanceId: c.instanceId, executionId: c.executionId,
          activity: c.name, taskId: c.taskId });
        return log;
      },
    };
    const now = (): number => this.#o.clock.now();
    try {
      const input = deserializePayload(c.input, `input of activity '${c.name}'`);
      const output = await fn(ctx, input);
      const result = serializePayload(output, `result of activity '${c.name}'`);
      return newEvent({ type: 'TaskCompleted', taskScheduledId: c.taskId, result }, now());
    } catch (err) {
      if (isDurableTaskError(err, ErrorCode.SESSION_ABORTED)) throw err;
      const failureDetails = failureFromError(err);
      return newEvent({ type: 'TaskFailed', taskScheduledId: c.taskId,
        reason: failureDetails.errorMessage, failureDetails }, now());
    }
  }
}
