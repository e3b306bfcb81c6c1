import type { Logger } from 'pino';
import { newEvent, type EventRaisedEvent } from '../core/history-event.ts';
import type { ContinueAsNewEventBehaviour } from '../core/orchestration-service.ts';
import { buildOrchestrationState, OrchestrationRuntimeState } from '../core/runtime-state.ts';
import { taskMessage, type TaskMessage } from '../core/task-message.ts';
import type { OrchestrationCompletion } from '../core/work-item.ts';
import * as events from '../logging/runtime-events.ts';
import {
  applyDecision,
  emptyMessages,
  messageCount,
  type EpisodeMessages,
} from './apply-decisions.ts';
import { SPLIT_TIMER_ID, type ExecutionResult } from './orchestration-executor.ts';
import type { CompleteOrchestrationAction } from './orchestrator-action.ts';
import { reconcileMessages } from './reconcile-messages.ts';
import { ensureExecutionStartedIsFirst } from './start-event-ordering.ts';

/** Most executions one episode runs back to back through continue-as-new. */
export const MAX_CONTINUE_AS_NEW_PER_EPISODE = 20;

/** The part of a work item an episode reads and updates. */
export interface EpisodeInput {
  readonly instanceId: string;
  readonly newMessages: readonly TaskMessage[];
  /** Stored history; the episode appends this episode's events to it. */
  readonly orchestrationRuntimeState: OrchestrationRuntimeState;
}

export interface EpisodeOptions {
  /** Epoch ms; stamps OrchestratorStarted and the events made. */
  readonly now: () => number;
  readonly logger: Logger;
  readonly newExecutionId: () => string;
  readonly isMaxMessageCountExceeded: (count: number, state: OrchestrationRuntimeState) => boolean;
  readonly eventBehaviourForContinueAsNew: ContinueAsNewEventBehaviour;
  /**
   * Runs the orchestrator over a runtime state (replay of `pastEvents`,
   * then `newEvents`) and returns its decisions. The dispatcher supplies
   * middleware, registry and executor cache here.
   */
  readonly execute: (state: OrchestrationRuntimeState) =>
    Promise<ExecutionResult> | ExecutionResult;
  readonly maxContinueAsNew?: number;
}

export interface EpisodeOutcome {
  readonly completion: OrchestrationCompletion;
  /** The batch was thrown away in reconciliation; no user code ran. */
  readonly discarded: boolean;
  /** Decisions were cut by the message limit; a split timer wakes the instance. */
  readonly interrupted: boolean;
  /** How many executions ran (more than one after continue-as-new). */
  readonly executions: number;
  /** Decisions applied, over all executions. */
  readonly decisions: number;
}

/**
 * One orchestration episode (contract.md §2.6 steps 1, 4, 5, 8): start-event
 * ordering, the OrchestratorStarted marker, reconciliation, then the
 * orchestrator run and its decisions applied in id order, with continue-as-new
 * running the next execution inside the same episode. Returns the one-object
 * completion for `completeOrchestrationWorkItem`. Lock renewal, the checkpoint
 * call and error handling are the dispatcher's.
 */
export async function runEpisode(item: EpisodeInput,
  options: EpisodeOptions): Promise<EpisodeOutcome> {
  const original = item.orchestrationRuntimeState;
  const messages = ensureExecutionStartedIsFirst(item.newMessages);
  original.addEvent(newEvent({ type: 'OrchestratorStarted' }, options.now()));

  const reconciled = reconcileMessages(original, messages);
  const ids = { instanceId: item.instanceId,
    executionId: original.orchestrationInstance?.executionId };
  if (reconciled.kind === 'discarded') {
    events.batchDiscarded(options.logger, { ...ids, reason: reconciled.reason });
    return {
      completion: completionOf(original, emptyMessages(), null),
      discarded: true, interrupted: false, executions: 0, decisions: 0,
    };
  }
  for (const s of reconciled.skipped) {
    events.messageSkipped(options.logger, { ...ids, eventType: s.message.event.type,
      reason: s.reason });
  }

  const out = emptyMessages();
  const maxLoops = options.maxContinueAsNew ?? MAX_CONTINUE_AS_NEW_PER_EPISODE;
  let state = original;
  let executions = 0;
  let decisions = 0;
  let interrupted = false;
  for (;;) {
    executions++;
    const result = await options.execute(state);
    if (result.customStatus !== undefined) state.customStatus = result.customStatus;

    const applied = applyAll(result, state, out, options);
    decisions += applied.count;
    interrupted = applied.interrupted;
    const continued = applied.completion?.status === 'ContinuedAsNew'
      ? applied.completion
      : undefined;
    if (!continued) {
      if (state.events.at(-1)?.type !== 'OrchestratorCompleted') {
        state.addEvent(newEvent({ type: 'OrchestratorCompleted' }, options.now()));
      }
      break;
    }

    state = nextExecution(state, continued, options);
    if (executions >= maxLoops) {
      events.continueAsNewLoopCapped(options.logger, { instanceId: item.instanceId,
        loops: executions });
      addSplitTimer(state, out, options.now());
      state.addEvent(newEvent({ type: 'OrchestratorCompleted' }, options.now()));
      break;
    }
  }

  const snapshot = buildOrchestrationState(state, options.now());
  return {
    completion: completionOf(state, out, snapshot),
    discarded: false, interrupted, executions, decisions,
  };
}

function applyAll(
  result: ExecutionResult,
  state: OrchestrationRuntimeState,
  out: EpisodeMessages,
  options: EpisodeOptions,
): { count: number; interrupted: boolean; completion: CompleteOrchestrationAction | undefined } {
  const actions = result.actions;
  const now = options.now();
  const ctx = { now, newExecutionId: options.newExecutionId };
  let completion: CompleteOrchestrationAction | undefined;
  let count = 0;
  for (const action of actions) {
    completion = applyDecision(action, state, out, ctx) ?? completion;
    count++;
    if (count === actions.length || completion) break;
    if (options.isMaxMessageCountExceeded(messageCount(out), state)) {
      events.episodeSplit(options.logger, {
        instanceId: state.orchestrationInstance?.instanceId ?? '?',
        executionId: state.orchestrationInstance?.executionId,
        applied: count, total: actions.length,
      });
      addSplitTimer(state, out, now);
      return { count, interrupted: true, completion };
    }
  }
  return { count, interrupted: false, completion };
}

/** The dispatcher's internal wake-up: TimerCreated(-100) and a TimerFired due now. */
function addSplitTimer(state: OrchestrationRuntimeState, out: EpisodeMessages, now: number): void {
  const inst = state.orchestrationInstance;
  if (!inst) return;
  const fireAt = new Date(now).toISOString();
  state.addEvent(newEvent({ type: 'TimerCreated', eventId: SPLIT_TIMER_ID, fireAt }, now));
  out.timerMessages.push(taskMessage(
    newEvent({ type: 'TimerFired', timerId: SPLIT_TIMER_ID, fireAt }, now), inst));
}

/**
 * The runtime state of the execution that follows a continue-as-new:
 * `[OrchestratorStarted, ExecutionStarted, ...carried EventRaised]`, all new,
 * with the custom status carried forward.
 */
export function nextExecution(
  previous: OrchestrationRuntimeState,
  action: CompleteOrchestrationAction,
  options: Pick<EpisodeOptions, 'now' | 'newExecutionId'>,
): OrchestrationRuntimeState {
  const started = previous.executionStartedEvent;
  if (!started) throw new Error('continue-as-new needs a started execution');
  const now = options.now();
  const next = new OrchestrationRuntimeState([], previous.customStatus);
  next.addEvent(newEvent({ type: 'OrchestratorStarted' }, now));
  next.addEvent(newEvent({
    type: 'ExecutionStarted',
    orchestrationInstance: {
      instanceId: started.orchestrationInstance.instanceId,
      executionId: options.newExecutionId(),
    },
    parentInstance: started.parentInstance,
    name: started.name,
    version: action.newVersion ?? started.version,
    input: action.result,
    tags: started.tags,
    generation: (started.generation ?? 0) + 1,
  }, now));
  for (const e of action.carryoverEvents ?? []) next.addEvent(e as EventRaisedEvent);
  return next;
}

function completionOf(
  state: OrchestrationRuntimeState,
  out: EpisodeMessages,
  orchestrationState: OrchestrationCompletion['orchestrationState'],
): OrchestrationCompletion {
  return {
    newRuntimeState: state,
    activityMessages: out.activityMessages,
    orchestratorMessages: out.orchestratorMessages,
    timerMessages: out.timerMessages,
    continuedAsNewMessage: null,
    orchestrationState,
  };
}
