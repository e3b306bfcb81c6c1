import type { Logger } from 'pino';
import { DurableTaskError, ErrorCode, isDurableTaskError } from '../core/errors.ts';
import type { FailureDetails } from '../core/failure-details.ts';
import type { OrchestrationService } from '../core/orchestration-service.ts';
import type { OrchestrationRuntimeState } from '../core/runtime-state.ts';
import type { OrchestrationWorkItem } from '../core/work-item.ts';
import * as events from '../logging/runtime-events.ts';
import type { Clock } from '../util/clock.ts';
import { ExecutorCache } from './executor-cache.ts';
import { newId32 } from './ids.ts';
import { startRenewal } from './lock-renewal.ts';
import {
  runMiddleware,
  type OrchestrationDecisions,
  type OrchestrationMiddleware,
  type OrchestrationMiddlewareContext,
} from './middleware.ts';
import type { Orchestrator } from './orchestration-context.ts';
import { runEpisode, type EpisodeOutcome } from './orchestration-episode.ts';
import { OrchestrationExecutor, type ExecutionResult } from './orchestration-executor.ts';
import type { Registry } from './registry.ts';
import { nextActionId, unknownTypeFailure, waitingSince } from './unknown-type.ts';
import {
  VersionMismatchError,
  versionMismatch,
  versionMismatchFailure,
  type VersioningOptions,
} from './versioning.ts';
import { WorkItemDispatcher } from './work-item-dispatcher.ts';

export interface OrchestrationDispatcherOptions {
  readonly service: OrchestrationService;
  readonly registry: Registry<Orchestrator>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly extendedSessions: boolean;
  readonly maxCachedExecutors: number;
  readonly middleware: readonly OrchestrationMiddleware[];
  readonly maxConcurrent: number;
  readonly dispatcherCount: number;
  readonly receiveTimeoutMs: number;
  /** How long work for an unregistered orchestration is retried before the instance fails. */
  readonly unknownTypeRetryMs: number;
  readonly versioning?: VersioningOptions | undefined;
}

interface UsedExecutor {
  readonly executor: OrchestrationExecutor;
  readonly executionId: string;
}

function isLockGone(err: unknown): boolean {
  return isDurableTaskError(err, ErrorCode.SESSION_ABORTED) ||
    isDurableTaskError(err, ErrorCode.LOCK_LOST);
}

/**
 * Runs orchestration work items (contract.md §2.6): renews the lock while
 * an episode runs, runs the episode (from a cached executor when extended
 * sessions are on), and settles the work item with exactly one
 * `completeOrchestrationWorkItem`, or `abandon`, and always `release`.
 */
export class OrchestrationDispatcher {
  readonly #o: OrchestrationDispatcherOptions;
  readonly #cache: ExecutorCache;
  readonly #dispatcher: WorkItemDispatcher<OrchestrationWorkItem>;

  constructor(options: OrchestrationDispatcherOptions) {
    this.#o = options;
    this.#cache = new ExecutorCache(options.extendedSessions ? options.maxCachedExecutors : 0);
    const { service } = options;
    this.#dispatcher = new WorkItemDispatcher<OrchestrationWorkItem>({
      name: 'orchestration',
      logger: options.logger,
      clock: options.clock,
      maxConcurrent: options.maxConcurrent,
      dispatcherCount: options.dispatcherCount,
      receiveTimeoutMs: options.receiveTimeoutMs,
      fetch: (timeout, signal) => service.lockNextOrchestrationWorkItem(timeout, signal),
      process: (item, signal) => this.process(item, signal),
      releaseUnprocessed: (item) => service.releaseOrchestrationWorkItem(item),
      delayAfterFetchErrorMs: (err) => service.getDelayAfterFetchErrorMs(err),
      delayAfterProcessErrorMs: (err) => service.getDelayAfterProcessErrorMs(err),
      describe: (item) => item.instanceId,
    });
  }

  start(): void {
    this.#dispatcher.start();
  }

  async stop(options: { forced?: boolean; timeoutMs?: number } = {}): Promise<void> {
    await this.#dispatcher.stop(options);
    this.#cache.clear();
  }

  /** Live executors held for extended sessions. */
  get cachedExecutors(): number {
    return this.#cache.size;
  }

  /** Processes one work item; throws only for errors the process-delay hook should see. */
  async process(item: OrchestrationWorkItem, signal: AbortSignal): Promise<void> {
    const { service, logger, clock } = this.#o;
    const renewal = startRenewal({
      clock,
      lockedUntil: () => item.lockedUntil.getTime(),
      renew: () => service.renewOrchestrationWorkItemLock(item),
      onFailure: (err) => events.lockRenewalFailed(logger,
        { kind: 'orchestration', workItem: item.instanceId, err }),
    });
    try {
      const used: UsedExecutor[] = [];
      let outcome: EpisodeOutcome;
      try {
        outcome = await runEpisode(item, {
          now: () => clock.now(),
          logger,
          newExecutionId: newId32,
          isMaxMessageCountExceeded: (n, state) => service.isMaxMessageCountExceeded(n, state),
          eventBehaviourForContinueAsNew: service.eventBehaviourForContinueAsNew,
          execute: (state) => this.#execute(item, state, used),
        });
      } catch (err) {
        this.#cache.evict(item.instanceId);
        await this.#abandon(item, this.#reasonOf(err), err);
        if (isDurableTaskError(err, ErrorCode.UNKNOWN_ORCHESTRATION) || isLockGone(err) ||
          err instanceof VersionMismatchError) return;
        throw err;
      } finally {
        renewal.stop();
      }

      if (renewal.failed || signal.aborted) {
        this.#cache.evict(item.instanceId);
        await this.#abandon(item,
          renewal.failed ? 'lock renewal failed' : 'worker stopped by force');
        return;
      }

      try {
        await service.completeOrchestrationWorkItem(item, outcome.completion);
      } catch (err) {
        this.#cache.evict(item.instanceId);
        await this.#abandon(item, 'checkpoint failed', err);
        if (isLockGone(err)) return;
        throw err;
      }
      item.orchestrationRuntimeState = outcome.completion.newRuntimeState;
      this.#keep(item, outcome, used);
      events.episodeCompleted(logger, {
        instanceId: item.instanceId,
        executionId: outcome.completion.newRuntimeState.orchestrationInstance?.executionId,
        status: outcome.completion.orchestrationState?.orchestrationStatus ?? 'discarded',
        decisions: outcome.decisions,
      });
    } finally {
      await service.releaseOrchestrationWorkItem(item).catch((err: unknown) =>
        events.releaseFailed(logger, { workItem: item.instanceId, err }));
    }
  }

  #reasonOf(err: unknown): string {
    if (isDurableTaskError(err, ErrorCode.UNKNOWN_ORCHESTRATION)) return 'unknown orchestration';
    if (isLockGone(err)) return 'session aborted';
    if (err instanceof VersionMismatchError) return 'version mismatch (rejected)';
    return 'episode failed';
  }

  async #abandon(item: OrchestrationWorkItem, reason: string, err?: unknown): Promise<void> {
    events.workItemAbandoned(this.#o.logger, { kind: 'orchestration', workItem: item.instanceId,
      reason, err });
    // Work no worker here can run comes back with growing delays but is no delivery failure.
    const notHandled = isDurableTaskError(err, ErrorCode.UNKNOWN_ORCHESTRATION) ||
      err instanceof VersionMismatchError;
    const service = this.#o.service;
    await (notHandled ? service.abandonOrchestrationWorkItem(item, { reason: 'not-handled' })
      : service.abandonOrchestrationWorkItem(item)).catch(() => undefined);
  }

  /**
   * Caches the last execution's executor when it is still running and in step with history.
   * TODO: this is executor caching only; the lock is released after each episode (no session
   * that waits for more messages, contract.md §2.13), so a backend may route the next work
   * item of the instance to another worker, which then replays.
   */
  #keep(item: OrchestrationWorkItem, outcome: EpisodeOutcome, used: readonly UsedExecutor[]): void {
    const last = used.at(-1);
    const state = outcome.completion.newRuntimeState;
    const executionId = state.orchestrationInstance?.executionId;
    if (!this.#o.extendedSessions || !last || outcome.interrupted || outcome.discarded ||
      last.executor.isCompleted || last.executionId !== executionId) {
      this.#cache.evict(item.instanceId);
      return;
    }
    last.executor.advance(state.events);
    if (last.executor.processedEventCount !== state.events.length) {
      this.#cache.evict(item.instanceId);
      return;
    }
    this.#cache.put(item.instanceId, executionId, last.executor);
  }

  async #execute(
    item: OrchestrationWorkItem,
    state: OrchestrationRuntimeState,
    used: UsedExecutor[],
  ): Promise<ExecutionResult> {
    const started = state.executionStartedEvent;
    if (!started) {
      throw new DurableTaskError(ErrorCode.CORRUPT_HISTORY,
        `Instance '${item.instanceId}' has no ExecutionStarted event to run.`);
    }
    const { executionId } = started.orchestrationInstance;
    const mismatch = versionMismatch(this.#o.versioning, started.version);
    if (mismatch && this.#o.versioning?.onMismatch === 'reject') {
      throw new VersionMismatchError(mismatch);
    }
    if (mismatch) return this.#failWith(state, versionMismatchFailure(mismatch));
    const run = (): ExecutionResult => this.#runExecutor(item, state, executionId, used);
    if (this.#o.middleware.length === 0) return run();

    const ctx: OrchestrationMiddlewareContext = {
      workItem: item, runtimeState: state, instanceId: item.instanceId, executionId,
      name: started.name, version: started.version,
    };
    await runMiddleware(this.#o.middleware, ctx, async () => {
      ctx.result ??= run();
    });
    return this.#fromDecisions(ctx.result, started.name);
  }

  #runExecutor(
    item: OrchestrationWorkItem,
    state: OrchestrationRuntimeState,
    executionId: string,
    used: UsedExecutor[],
  ): ExecutionResult {
    if (this.#o.extendedSessions && state.pastEvents.length > 0 && used.length === 0) {
      const cached = this.#cache.take(item.instanceId, executionId, state.pastEvents.length);
      if (cached) {
        item.isExtendedSession = true;
        used.push({ executor: cached, executionId });
        return cached.resume(state.newEvents);
      }
    }
    const fn = this.#o.registry.get(state.name, state.version);
    if (!fn) {
      const now = this.#o.clock.now();
      const waited = now - waitingSince(state.newEvents, now);
      events.unknownOrchestration(this.#o.logger, { instanceId: item.instanceId, executionId,
        name: state.name, version: state.version, waitedMs: waited });
      if (waited >= this.#o.unknownTypeRetryMs) return this.#giveUp(state, waited);
      throw new DurableTaskError(ErrorCode.UNKNOWN_ORCHESTRATION,
        `No orchestration named '${state.name}'` +
        `${state.version ? ` (version '${state.version}')` : ''} is registered on this worker.`);
    }
    const executor = new OrchestrationExecutor(fn, {
      logger: this.#o.logger,
      eventBehaviourForContinueAsNew: this.#o.service.eventBehaviourForContinueAsNew,
    });
    used.push({ executor, executionId });
    return executor.execute(state.pastEvents, state.newEvents);
  }

  /** Fails the execution: its orchestration stayed unregistered for too long. */
  #giveUp(state: OrchestrationRuntimeState, waitedMs: number): ExecutionResult {
    return this.#failWith(state,
      unknownTypeFailure('orchestration', state.name, state.version, waitedMs));
  }

  /** Decisions that fail the execution without running its code. */
  #failWith(state: OrchestrationRuntimeState, failureDetails: FailureDetails): ExecutionResult {
    const completion = {
      kind: 'completeOrchestration', id: nextActionId(state.events), status: 'Failed',
      failureDetails,
    } as const;
    return { actions: [completion], customStatus: undefined, completion, isSuspended: false };
  }

  #fromDecisions(decisions: OrchestrationDecisions | undefined, name: string): ExecutionResult {
    if (!decisions) {
      throw new DurableTaskError(ErrorCode.UNKNOWN_ORCHESTRATION,
        `The orchestration middleware produced no decisions for '${name}'.`);
    }
    if ('completion' in decisions && 'isSuspended' in decisions) {
      return decisions as ExecutionResult;
    }
    const completion = decisions.actions.find((a) => a.kind === 'completeOrchestration');
    return {
      actions: decisions.actions,
      customStatus: decisions.customStatus,
      completion: completion?.kind === 'completeOrchestration' ? completion : undefined,
      isSuspended: false,
    };
  }
}
