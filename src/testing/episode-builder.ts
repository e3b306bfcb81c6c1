import type { FailureDetails } from '../core/failure-details.ts';
import { newEvent, type HistoryEvent } from '../core/history-event.ts';
import type { ParentInstance } from '../core/orchestration-instance.ts';
import { isLiveStatus } from '../core/orchestration-status.ts';
import { buildOrchestrationState, OrchestrationRuntimeState } from '../core/runtime-state.ts';
import { taskMessage, type TaskMessage } from '../core/task-message.ts';
import type { OrchestrationCompletion } from '../core/work-item.ts';
import { childResultKey, eventSignature, startKey, timerKey } from './message-keys.ts';
import type { CommitPlan, MessageSpec } from './model/orchestration-model.ts';

/** What one generated episode decides, in raw numbers the builder maps onto the run. */
export interface Outcome {
  /** Activities to schedule. */
  readonly activities: number;
  /** Timers to create, each due this fraction of `timerBaseMs` from now. */
  readonly timers: readonly number[];
  /** Events to send; each number picks a target instance. */
  readonly sends: readonly number[];
  /** Start a new sub-orchestration. */
  readonly child: boolean;
  /** Send a start to an existing live instance (a duplicate the backend must drop). */
  readonly duplicateStart: number | undefined;
  readonly end: 'none' | 'complete' | 'fail' | 'continueAsNew';
}

/** An outcome that only consumes the batch (the final drain uses it). */
export const PLAIN_OUTCOME: Outcome = {
  activities: 0,
  timers: [],
  sends: [],
  child: false,
  duplicateStart: undefined,
  end: 'none',
};

export interface EpisodeInput {
  readonly instanceId: string;
  readonly messages: readonly TaskMessage[];
  /** The stored history the work item was handed. */
  readonly past: readonly HistoryEvent[];
  readonly customStatus: string | null | undefined;
  readonly now: number;
  readonly outcome: Outcome;
  /** Instances events may go to, and those that are live (for duplicate starts). */
  readonly targets: readonly string[];
  readonly liveTargets: readonly string[];
  readonly timerBaseMs: number;
  readonly ids: {
    readonly execution: () => string;
    readonly event: () => string;
    readonly child: () => string;
  };
}

export interface Episode {
  /** The runtime state the episode started from, with this episode's events of that execution. */
  readonly original: OrchestrationRuntimeState;
  readonly completion: OrchestrationCompletion;
  readonly plan: CommitPlan;
}

const FAILURE: FailureDetails = {
  errorType: 'Error',
  errorMessage: 'the episode chose to fail',
  isNonRetriable: false,
};

/**
 * Plays one orchestration episode by hand, as the dispatcher would
 * (contract.md §2.6): the OrchestratorStarted marker, reconciliation of the
 * batch (a batch for a finished execution or a new instance without its start
 * is discarded; duplicate starts and stale-execution messages are skipped),
 * then the outcome's decisions, a continue-as-new into a fresh runtime state,
 * and the status snapshot. Returns the completion and the model's plan.
 */
export function buildEpisode(input: EpisodeInput): Episode {
  const { now, outcome } = input;
  const state = new OrchestrationRuntimeState(input.past, input.customStatus);
  const before = state.executionStartedEvent?.orchestrationInstance.executionId ?? '';
  state.addEvent(newEvent({ type: 'OrchestratorStarted' }, now));
  if (!reconcile(state, input.messages)) return discarded(state, before);

  const started = state.executionStartedEvent!;
  const self = started.orchestrationInstance;
  let id = nextActionId(state.events);
  const orchestratorMessages: TaskMessage[] = [];
  const activityMessages: TaskMessage[] = [];
  const timerMessages: TaskMessage[] = [];
  const outbound: MessageSpec[] = [];
  const timers: MessageSpec[] = [];
  const activities: { executionId: string; taskId: number }[] = [];

  for (let i = 0; i < outcome.activities; i++, id++) {
    state.addEvent(
      newEvent({ type: 'TaskScheduled', eventId: id, name: 'Work', version: '' }, now),
    );
    const msg = newEvent(
      { type: 'TaskScheduled', eventId: id, name: 'Work', version: '', input: JSON.stringify(id) },
      now,
    );
    activityMessages.push(taskMessage(msg, self));
    activities.push({ executionId: self.executionId, taskId: id });
  }
  for (const fraction of outcome.timers) {
    const fireAt = new Date(now + Math.max(1, Math.round(fraction * input.timerBaseMs)));
    state.addEvent(
      newEvent({ type: 'TimerCreated', eventId: id, fireAt: fireAt.toISOString() }, now),
    );
    timerMessages.push(
      taskMessage(
        newEvent({ type: 'TimerFired', timerId: id, fireAt: fireAt.toISOString() }, now),
        self,
      ),
    );
    timers.push({
      key: timerKey(self.executionId, id),
      instanceId: self.instanceId,
      executionId: self.executionId,
      kind: 'timer',
      notBefore: fireAt.getTime(),
    });
    id++;
  }
  for (const pick of outcome.sends) {
    const target = input.targets[pick % Math.max(1, input.targets.length)];
    if (target === undefined) continue;
    const name = input.ids.event();
    state.addEvent(newEvent({ type: 'EventSent', eventId: id++, instanceId: target, name }, now));
    orchestratorMessages.push(
      taskMessage(newEvent({ type: 'EventRaised', name }, now), { instanceId: target }),
    );
    outbound.push({
      key: `ev:${name}`,
      instanceId: target,
      executionId: undefined,
      kind: 'event',
      notBefore: 0,
    });
  }
  const starts: [string, boolean][] = [];
  if (outcome.child) starts.push([input.ids.child(), true]);
  if (outcome.duplicateStart !== undefined && input.liveTargets.length > 0) {
    const t = input.liveTargets[outcome.duplicateStart % input.liveTargets.length] as string;
    starts.push([t, false]);
  }
  for (const [childId] of starts) {
    const parent: ParentInstance = {
      name: started.name,
      version: started.version,
      orchestrationInstance: self,
      taskScheduleId: id,
    };
    const exec = input.ids.execution();
    state.addEvent(
      newEvent(
        {
          type: 'SubOrchestrationInstanceCreated',
          eventId: id++,
          name: 'Child',
          version: '',
          instanceId: childId,
        },
        now,
      ),
    );
    orchestratorMessages.push(
      taskMessage(
        newEvent(
          {
            type: 'ExecutionStarted',
            orchestrationInstance: { instanceId: childId, executionId: exec },
            parentInstance: parent,
            name: 'Child',
            version: '',
          },
          now,
        ),
        { instanceId: childId, executionId: exec },
      ),
    );
    outbound.push({
      key: startKey(exec),
      instanceId: childId,
      executionId: exec,
      kind: 'start',
      notBefore: 0,
      start: {
        executionId: exec,
        parent: {
          instanceId: self.instanceId,
          executionId: self.executionId,
          taskScheduleId: parent.taskScheduleId,
        },
      },
    });
  }

  let current = state;
  if (outcome.end === 'continueAsNew') {
    state.addEvent(
      newEvent(
        {
          type: 'ContinueAsNew',
          eventId: id,
          orchestrationStatus: 'ContinuedAsNew',
          result: '"next"',
        },
        now,
      ),
    );
    current = nextExecution(state, input.ids.execution(), now);
  } else {
    if (outcome.end !== 'none') {
      const failed = outcome.end === 'fail';
      state.addEvent(
        newEvent(
          {
            type: 'ExecutionCompleted',
            eventId: id,
            orchestrationStatus: failed ? 'Failed' : 'Completed',
            ...(failed ? { failureDetails: FAILURE } : { result: '"done"' }),
          },
          now,
        ),
      );
      const parent = started.parentInstance;
      if (parent) {
        const pi = parent.orchestrationInstance;
        orchestratorMessages.push(
          taskMessage(
            newEvent(
              failed
                ? {
                    type: 'SubOrchestrationInstanceFailed',
                    taskScheduledId: parent.taskScheduleId,
                    reason: FAILURE.errorMessage,
                    failureDetails: FAILURE,
                  }
                : {
                    type: 'SubOrchestrationInstanceCompleted',
                    taskScheduledId: parent.taskScheduleId,
                    result: '"done"',
                  },
              now,
            ),
            pi,
          ),
        );
        outbound.push({
          key: childResultKey(pi.executionId, parent.taskScheduleId),
          instanceId: pi.instanceId,
          executionId: pi.executionId,
          kind: 'child-result',
          notBefore: 0,
        });
      }
    }
    state.addEvent(newEvent({ type: 'OrchestratorCompleted' }, now));
  }
  const snapshot = buildOrchestrationState(current, now);
  return {
    original: state,
    completion: {
      newRuntimeState: current,
      activityMessages,
      orchestratorMessages,
      timerMessages,
      continuedAsNewMessage: null,
      orchestrationState: snapshot,
    },
    plan: {
      discard: false,
      executionId: snapshot.orchestrationInstance.executionId,
      previousExecutionId: self.executionId,
      status: snapshot.orchestrationStatus,
      history: current.events.map(eventSignature),
      nextActionId: nextActionId(current.events),
      outbound: [...outbound, ...timers],
      activities,
    },
  };
}

/** Appends the batch (§2.6 R2-R6); false when the whole batch is to be discarded. */
function reconcile(state: OrchestrationRuntimeState, messages: readonly TaskMessage[]): boolean {
  if (state.executionStartedEvent && !isLiveStatus(state.orchestrationStatus)) return false;
  for (const m of messages) {
    const e = m.event;
    const started = state.executionStartedEvent;
    if (!started) {
      if (e.type !== 'ExecutionStarted') return false;
      state.addEvent(e);
      continue;
    }
    if (e.type === 'ExecutionStarted') continue;
    const target = m.orchestrationInstance.executionId;
    if (target !== undefined && target !== started.orchestrationInstance.executionId) continue;
    state.addEvent(e);
  }
  return true;
}

function discarded(state: OrchestrationRuntimeState, executionId: string): Episode {
  return {
    original: state,
    completion: {
      newRuntimeState: state,
      activityMessages: [],
      orchestratorMessages: [],
      timerMessages: [],
      continuedAsNewMessage: null,
      orchestrationState: null,
    },
    plan: {
      discard: true,
      executionId,
      previousExecutionId: executionId,
      status: 'Running',
      history: [],
      nextActionId: 0,
      outbound: [],
      activities: [],
    },
  };
}

function nextExecution(
  previous: OrchestrationRuntimeState,
  executionId: string,
  now: number,
): OrchestrationRuntimeState {
  const started = previous.executionStartedEvent!;
  const next = new OrchestrationRuntimeState([], previous.customStatus);
  next.addEvent(newEvent({ type: 'OrchestratorStarted' }, now));
  next.addEvent(
    newEvent(
      {
        type: 'ExecutionStarted',
        orchestrationInstance: {
          instanceId: started.orchestrationInstance.instanceId,
          executionId,
        },
        ...(started.parentInstance ? { parentInstance: started.parentInstance } : {}),
        name: started.name,
        version: started.version,
        input: '"next"',
        generation: (started.generation ?? 0) + 1,
      },
      now,
    ),
  );
  next.addEvent(newEvent({ type: 'OrchestratorCompleted' }, now));
  return next;
}

function nextActionId(events: readonly HistoryEvent[]): number {
  let next = 0;
  for (const e of events) if (e.eventId >= next) next = e.eventId + 1;
  return next;
}
