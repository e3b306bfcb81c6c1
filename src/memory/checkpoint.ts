import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { isHistoryEvent, type HistoryEvent } from '../core/history-event.ts';
import type { OrchestrationState } from '../core/orchestration-state.ts';
import { isLiveStatus, isOrchestrationStatus } from '../core/orchestration-status.ts';
import { buildOrchestrationState, OrchestrationRuntimeState } from '../core/runtime-state.ts';
import type { TaskMessage } from '../core/task-message.ts';
import { validateInstanceId } from '../core/validation.ts';
import type { OrchestrationCompletion, OrchestrationWorkItem } from '../core/work-item.ts';
import type { InstanceRecord, MemoryStore, OrchestrationLock } from './memory-store.ts';
import { pendingState } from './records.ts';

/** What a checked completion will do; built before any effect, so a bad one changes nothing. */
export type CheckpointPlan =
  | { readonly discard: true }
  | {
    readonly discard: false;
    /** Execution of `newRuntimeState`. */
    readonly executionId: string;
    /** The finished execution, when the episode continued as new. */
    readonly continuedFrom: OrchestrationRuntimeState | undefined;
    readonly state: OrchestrationState;
    readonly timers: readonly { readonly due: number; readonly message: TaskMessage }[];
  };

function invalid(message: string): DurableTaskError {
  return new DurableTaskError(ErrorCode.INVALID_ARGUMENT, message);
}

function list(value: unknown, name: string): readonly TaskMessage[] {
  if (!Array.isArray(value)) throw invalid(`The completion's ${name} must be an array.`);
  for (const m of value) {
    if (typeof m !== 'object' || m === null || !isHistoryEvent((m as TaskMessage).event) ||
      typeof (m as TaskMessage).orchestrationInstance !== 'object' ||
      (m as TaskMessage).orchestrationInstance === null) {
      throw invalid(`The completion's ${name} holds something that is not a task message.`);
    }
  }
  return value as readonly TaskMessage[];
}

/** Checks a completion against the held lock; throws INVALID_ARGUMENT naming the problem. */
export function planCheckpoint(
  rec: InstanceRecord,
  lock: OrchestrationLock,
  item: OrchestrationWorkItem,
  completion: OrchestrationCompletion,
): CheckpointPlan {
  if (typeof completion !== 'object' || completion === null) {
    throw invalid('The completion must be an object.');
  }
  const id = rec.instanceId;
  const activities = list(completion.activityMessages, 'activityMessages');
  const outbound = list(completion.orchestratorMessages, 'orchestratorMessages');
  const timerMessages = list(completion.timerMessages, 'timerMessages');
  if (completion.continuedAsNewMessage != null) {
    throw invalid('continuedAsNewMessage must be null: continue-as-new runs in the same ' +
      'episode and the next execution is checkpointed as newRuntimeState.');
  }
  if (completion.orchestrationState === null) return { discard: true };

  const state = completion.newRuntimeState;
  if (!(state instanceof OrchestrationRuntimeState)) {
    throw invalid('The completion\'s newRuntimeState must be an OrchestrationRuntimeState.');
  }
  const started = state.executionStartedEvent;
  if (!started || started.orchestrationInstance.instanceId !== id) {
    throw invalid(`The new runtime state of instance '${id}' has no ExecutionStarted event ` +
      'for that instance.');
  }
  const executionId = started.orchestrationInstance.executionId;
  const record = completion.orchestrationState;
  if (typeof record !== 'object' || !isOrchestrationStatus(record.orchestrationStatus) ||
    record.orchestrationInstance?.instanceId !== id ||
    record.orchestrationInstance.executionId !== executionId) {
    throw invalid(`The status record does not describe execution '${executionId}' of ` +
      `instance '${id}'.`);
  }
  let continuedFrom: OrchestrationRuntimeState | undefined;
  if (executionId !== lock.executionId) {
    const old = item.orchestrationRuntimeState;
    const oldId = old instanceof OrchestrationRuntimeState
      ? old.executionStartedEvent?.orchestrationInstance.executionId : undefined;
    if (old === state || oldId !== lock.executionId) {
      throw invalid(`The checkpoint names execution '${executionId}' but the lock holds ` +
        `execution '${lock.executionId}' of instance '${id}', and the work item's runtime ` +
        'state is not that execution ending in continue-as-new.');
    }
    if (rec.executions.some((e) => e.executionId === executionId)) {
      throw invalid(`Execution '${executionId}' of instance '${id}' already exists.`);
    }
    continuedFrom = old;
  }
  for (const m of activities) {
    if (m.event.type !== 'TaskScheduled' || m.orchestrationInstance.instanceId !== id) {
      throw invalid(`Activity messages must be TaskScheduled events owned by '${id}', got ` +
        `${m.event.type} for '${m.orchestrationInstance.instanceId}'.`);
    }
  }
  const timers = timerMessages.map((m) => {
    const due = m.event.type === 'TimerFired' ? Date.parse(m.event.fireAt) : NaN;
    if (Number.isNaN(due) || m.orchestrationInstance.instanceId !== id) {
      throw invalid(`Timer messages must be TimerFired events with a valid fireAt addressed to ` +
        `'${id}', got ${m.event.type} for '${m.orchestrationInstance.instanceId}'.`);
    }
    return { due, message: m };
  });
  for (const m of outbound) {
    const target = validateInstanceId(m.orchestrationInstance.instanceId, 'target instance id');
    if (m.event.type === 'ExecutionStarted' &&
      (m.event.orchestrationInstance.instanceId !== target ||
        !m.event.orchestrationInstance.executionId)) {
      throw invalid(`A start message to '${target}' must name that instance and an execution id.`);
    }
  }
  return { discard: false, executionId, continuedFrom, state: record, timers };
}

function append(target: HistoryEvent[], events: readonly HistoryEvent[]): void {
  for (const e of events) target.push(e);
}

/** Applies a checked checkpoint: history, status records, outbound messages, consumption. */
export function applyCheckpoint(
  store: MemoryStore,
  rec: InstanceRecord,
  lock: OrchestrationLock,
  completion: OrchestrationCompletion,
  plan: CheckpointPlan,
  now: number,
): void {
  // Consume exactly the locked batch (INV-3); later arrivals stay queued.
  rec.queue = rec.queue.filter((q) => !lock.seqs.has(q.seq));
  rec.abandonCount = 0;
  rec.abandonHeadSeq = -1;
  rec.abandonedBy = null;
  rec.maxFailures = 0;
  for (const q of rec.queue) if (q.failures > rec.maxFailures) rec.maxFailures = q.failures;
  rec.notBefore = 0;
  if (plan.discard) return;

  const at = new Date(now);
  const current = rec.current;
  const runtime = completion.newRuntimeState;
  if (plan.continuedFrom) {
    const old = plan.continuedFrom;
    append(current.history, old.newEvents);
    current.state = {
      ...buildOrchestrationState(old, now),
      createdTime: current.state.createdTime,
    };
    store.dropTimers(rec.instanceId, current.executionId);
    store.addExecution(rec, { ...plan.state, createdTime: at, lastUpdatedTime: at },
      [...runtime.events]);
  } else {
    append(current.history, runtime.newEvents);
    current.state = { ...plan.state, createdTime: current.state.createdTime, lastUpdatedTime: at };
    store.onStatusChange(rec.instanceId);
  }
  const exec = rec.current;
  const live = isLiveStatus(exec.state.orchestrationStatus);
  // A finished execution's timers can never be delivered: drop them (and new ones) now.
  if (!live) store.dropTimers(rec.instanceId, exec.executionId);

  for (const m of completion.activityMessages) {
    const seq = store.nextSeq();
    store.activities.set(seq, {
      seq, id: `a${seq}`, message: m, deliveryCount: 0, lock: null, notBefore: 0,
      abandonCount: 0, failures: 0, abandonedBy: null,
    });
  }
  for (const m of completion.orchestratorMessages) {
    if (m.event.type !== 'ExecutionStarted') store.route(m);
    // A start addressed to the checkpointing instance itself is a duplicate start: the
    // instance exists (it decided to send it while live), so the start is discarded.
    else if (m.orchestrationInstance.instanceId === rec.instanceId) {
      store.discard(m, 'duplicate-start');
    } else startExecution(store, m, now);
  }
  if (live) {
    for (const t of plan.timers) {
      if (t.message.orchestrationInstance.executionId === exec.executionId ||
        t.message.orchestrationInstance.executionId === undefined) {
        store.addTimer(rec.instanceId, t.message, t.due);
      }
    }
  }
  if (rec.queue.length > 0) store.candidates.add(rec);
}

/**
 * Starts an execution sent by a parent: a new instance gets a Pending record;
 * a finished one is replaced by the new execution; a live one keeps running
 * and the start is discarded.
 */
export function startExecution(store: MemoryStore, message: TaskMessage, now: number): void {
  if (message.event.type !== 'ExecutionStarted') return;
  const event = message.event;
  const rec = store.instances.get(event.orchestrationInstance.instanceId);
  const state = pendingState(event, now);
  if (!rec) {
    store.enqueue(store.addInstance(state), message);
    return;
  }
  if (isLiveStatus(rec.current.state.orchestrationStatus)) {
    store.discard(message, 'child-exists');
    return;
  }
  store.loseOrchestrationLock(rec);
  store.addExecution(rec, state);
  store.enqueue(rec, message);
}
