import type { TaskCompletedEvent, TaskFailedEvent, Tags } from '../core/history-event.ts';
import type { OrchestrationRuntimeState } from '../core/runtime-state.ts';
import type { ActivityWorkItem, OrchestrationWorkItem } from '../core/work-item.ts';
import type { OrchestratorAction } from './orchestrator-action.ts';

/** Decisions for one execution pass, as the executor or a middleware produces them. */
export interface OrchestrationDecisions {
  /** In action-id order; a `completeOrchestration` action ends the execution. */
  readonly actions: readonly OrchestratorAction[];
  /** Serialized custom status; undefined keeps the stored one. */
  readonly customStatus?: string | undefined;
}

export interface OrchestrationMiddlewareContext {
  readonly workItem: OrchestrationWorkItem;
  /** History of the execution being run: `pastEvents` replayed, `newEvents` new. */
  readonly runtimeState: OrchestrationRuntimeState;
  readonly instanceId: string;
  readonly executionId: string;
  readonly name: string;
  readonly version: string;
  /** Set by the executor at the end of the chain, or by a middleware that replaces it. */
  result?: OrchestrationDecisions;
}

/** Runs around each orchestration execution pass; call `next()` to run the orchestrator. */
export type OrchestrationMiddleware = (
  ctx: OrchestrationMiddlewareContext,
  next: () => Promise<void>,
) => Promise<void>;

export interface ActivityMiddlewareContext {
  readonly workItem: ActivityWorkItem;
  readonly instanceId: string;
  readonly executionId: string;
  readonly name: string;
  readonly version: string;
  readonly taskId: number;
  /** Serialized input. */
  readonly input: string | undefined;
  readonly tags: Tags;
  readonly signal: AbortSignal;
  /**
   * The answer sent to the orchestration: set by the activity at the end of
   * the chain, or by a middleware. None at all sends a `TaskCompleted` without result.
   */
  response?: TaskCompletedEvent | TaskFailedEvent;
}

/** Runs around each activity execution; call `next()` to run the activity. */
export type ActivityMiddleware = (
  ctx: ActivityMiddlewareContext,
  next: () => Promise<void>,
) => Promise<void>;

/** Runs `ctx` through `chain`, then `last`; a middleware that skips `next()` ends it. */
export async function runMiddleware<C>(
  chain: readonly ((ctx: C, next: () => Promise<void>) => Promise<void>)[],
  ctx: C,
  last: () => Promise<void>,
): Promise<void> {
  const dispatch = async (i: number): Promise<void> => {
    const mw = chain[i];
    if (!mw) return last();
    let called = false;
    await mw(ctx, async () => {
      if (called) throw new Error('next() called more than once by a middleware');
      called = true;
      await dispatch(i + 1);
    });
  };
  await dispatch(0);
}
