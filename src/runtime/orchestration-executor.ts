import type { Logger } from 'pino';
import {
  DurableTaskError,
  ErrorCode,
  isDurableTaskError,
  SubOrchestrationFailedError,
  TaskFailedError,
} from '../core/errors.ts';
import type { FailureDetails } from '../core/failure-details.ts';
import type {
  EventRaisedEvent,
  ExecutionStartedEvent,
  HistoryEvent,
  Tags,
} from '../core/history-event.ts';
import type { ContinueAsNewEventBehaviour } from '../core/orchestration-service.ts';
import { deserializePayload, serializePayload } from '../core/payload.ts';
import { silentLogger } from '../logging/logger.ts';
import * as events from '../logging/runtime-events.ts';
import { defaultChildInstanceId } from './child-instance-id.ts';
import { deterministicGuid } from './deterministic-guid.ts';
import type { ExecutionHost } from './execution-host.ts';
import { ExecutorContext } from './executor-context.ts';
import { checkDecision, type DecisionEvent } from './non-determinism.ts';
import type { Orchestrator } from './orchestration-context.ts';
import { orchestrationFailure } from './orchestration-failure.ts';
import type { CompleteOrchestrationAction, OrchestratorAction } from './orchestrator-action.ts';
import { completionClock, isTask, Task, TimerTask } from './task.ts';
import { TimerCancelledError } from './task-errors.ts';

/** Action id of the dispatcher's split timer; accepted and ignored on replay. */
export const SPLIT_TIMER_ID = -100;

/** Bound on synchronous generator steps without waiting (a yield loop that never blocks). */
const MAX_STEPS_WITHOUT_WAIT = 10_000_000;
/** Bound on yields inside `finally` blocks of an orchestrator that was ended. */
const MAX_FINALLY_YIELDS = 100;

export interface ExecutorOptions {
  readonly logger?: Logger;
  /**
   * What `continueAsNew` does with unconsumed events when the call does not say.
   * @default 'carryover'
   */
  readonly eventBehaviourForContinueAsNew?: ContinueAsNewEventBehaviour;
}

/** What one pass produced. */
export interface ExecutionResult {
  /** Decisions not yet recorded in history, in action-id order (the completion last). */
  readonly actions: readonly OrchestratorAction[];
  /** Custom status as last set by the orchestrator (serialized); undefined when never set. */
  readonly customStatus: string | undefined;
  /** The completion decision, when the execution ended in this or an earlier pass. */
  readonly completion: CompleteOrchestrationAction | undefined;
  /** Suspended at the end of the pass: no decision is released. */
  readonly isSuspended: boolean;
}

type OpenKind = 'activity' | 'timer' | 'subOrchestration';

interface OpenTask {
  readonly kind: OpenKind;
  readonly name: string;
  readonly task: Task<unknown>;
}

interface Buffered {
  readonly seq: number;
  readonly event: EventRaisedEvent;
}

type Outcome = { readonly value: unknown } | { readonly error: unknown };

function isGenerator(value: unknown): value is Generator<unknown, unknown, unknown> {
  return typeof value === 'object' && value !== null &&
    typeof (value as Generator).next === 'function' &&
    typeof (value as Generator).throw === 'function';
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function';
}

function isSessionAborted(err: unknown): boolean {
  return isDurableTaskError(err, ErrorCode.SESSION_ABORTED);
}

function failureOf(reason: string | undefined,
  details: FailureDetails | undefined): FailureDetails {
  return details ?? { errorType: 'Error', errorMessage: reason ?? '', isNonRetriable: false };
}

/**
 * Replays one execution of an orchestration: pure, no I/O. Feed it the
 * events loaded from storage (`pastEvents`, replayed with `isReplaying`
 * true) and the events of this episode (`newEvents`); it runs the
 * orchestrator's generator and returns the decisions that history does not
 * record yet. With extended sessions the same executor is kept and later
 * fed only new events (`resume`), after `advance` told it which decision
 * events the checkpoint recorded.
 */
export class OrchestrationExecutor implements ExecutionHost {
  readonly clock = completionClock();
  readonly #orchestrator: Orchestrator;
  readonly #logger: Logger;
  readonly #behaviour: ContinueAsNewEventBehaviour;

  #started: ExecutionStartedEvent | undefined;
  #isReplaying = false;
  #currentTimeMs = 0;
  #processed = 0;

  #nextId = 0;
  #guidCounter = 0;
  readonly #pending = new Map<number, OrchestratorAction>();
  readonly #openTasks = new Map<number, OpenTask>();
  #held: OrchestratorAction[] | undefined;

  readonly #buffers = new Map<string, Buffered[]>();
  readonly #waiters = new Map<string, Task<unknown>[]>();
  #eventSeq = 0;

  #suspended = false;
  #queued: HistoryEvent[] = [];

  #generator: Generator<unknown, unknown, unknown> | undefined;
  #awaiting: Task<unknown> | undefined;
  #fnDone = false;
  #fnOutcome: Outcome | undefined;

  #continueAsNew: { input?: string; version?: string; preserve: boolean } | undefined;
  #completion: CompleteOrchestrationAction | undefined;
  /** Terminated or non-deterministic: no user code runs any more. */
  #halted = false;
  #customStatus: string | undefined;

  constructor(orchestrator: Orchestrator, options: ExecutorOptions = {}) {
    this.#orchestrator = orchestrator;
    this.#logger = options.logger ?? silentLogger();
    this.#behaviour = options.eventBehaviourForContinueAsNew ?? 'carryover';
  }

  // ---- public driving API

  /** One full pass: replays `pastEvents`, then processes `newEvents`. */
  execute(pastEvents: readonly HistoryEvent[],
    newEvents: readonly HistoryEvent[]): ExecutionResult {
    this.#feed(pastEvents, true);
    this.#feed(newEvents, false);
    return this.#result();
  }

  /** Extended sessions: processes the next episode's new events only. */
  resume(newEvents: readonly HistoryEvent[]): ExecutionResult {
    this.#feed(newEvents, false);
    return this.#result();
  }

  /**
   * Processes `history` beyond what this executor has seen, as replayed
   * events: after a checkpoint, the decision events it recorded.
   */
  advance(history: readonly HistoryEvent[]): void {
    this.#feed(history.slice(this.#processed), true);
  }

  /** Number of history events processed so far. */
  get processedEventCount(): number {
    return this.#processed;
  }

  /** True once the execution has a completion decision. */
  get isCompleted(): boolean {
    return this.#completion !== undefined;
  }

  // ---- ExecutionHost (used by the context)

  get isReplaying(): boolean {
    return this.#isReplaying;
  }

  get currentTimeMs(): number {
    return this.#currentTimeMs;
  }

  get started(): ExecutionStartedEvent {
    if (!this.#started) {
      throw new DurableTaskError(ErrorCode.INVALID_STATE, 'The execution has not started.');
    }
    return this.#started;
  }

  scheduleActivity<T>(name: string, version: string, input?: string, tags?: Tags): Task<T> {
    this.#assertLive('call an activity');
    const id = this.#nextId++;
    this.#pending.set(id, { kind: 'scheduleTask', id, name, version, input, tags });
    return this.#open<T>(id, 'activity', name);
  }

  scheduleTimer(fireAtMs: number): TimerTask {
    this.#assertLive('create a timer');
    const id = this.#nextId++;
    const fireAt = new Date(fireAtMs);
    this.#pending.set(id, { kind: 'createTimer', id, fireAt: fireAt.toISOString() });
    const task = new TimerTask(this.clock, id, fireAt, (t) => {
      this.#openTasks.delete(t.id);
      t.fail(new TimerCancelledError(t.id));
    });
    this.#openTasks.set(id, { kind: 'timer', name: 'timer', task });
    return task;
  }

  scheduleSubOrchestration<T>(
    name: string,
    version: string,
    instanceId: string | undefined,
    input: string | undefined,
    tags: Tags | undefined,
    fireAndForget: boolean,
  ): { task: Task<T>; instanceId: string } {
    this.#assertLive('start a sub-orchestration');
    const id = this.#nextId++;
    const childId = instanceId ??
      defaultChildInstanceId(this.started.orchestrationInstance.instanceId, id);
    this.#pending.set(id, {
      kind: 'createSubOrchestration', id, name, version, instanceId: childId, input, tags,
      fireAndForget,
    });
    if (!fireAndForget) return { task: this.#open<T>(id, 'subOrchestration', name),
      instanceId: childId };
    const task = new Task<T>(this.clock);
    task.complete(childId as T);
    return { task, instanceId: childId };
  }

  scheduleSendEvent(instanceId: string, name: string, input?: string): void {
    this.#assertLive('send an event');
    const id = this.#nextId++;
    this.#pending.set(id, { kind: 'sendEvent', id, instanceId, name, input });
  }

  waitForEvent<T>(name: string): Task<T> {
    const key = name.toLowerCase();
    const task = new Task<T>(this.clock);
    const buffer = this.#buffers.get(key);
    const first = buffer?.shift();
    if (first) {
      if (buffer?.length === 0) this.#buffers.delete(key);
      this.#deliver(task as Task<unknown>, first.event);
      return task;
    }
    const waiters = this.#waiters.get(key);
    if (waiters) waiters.push(task as Task<unknown>);
    else this.#waiters.set(key, [task as Task<unknown>]);
    return task;
  }

  cancelEventWait(name: string, task: Task<unknown>): void {
    const key = name.toLowerCase();
    const waiters = this.#waiters.get(key);
    if (!waiters) return;
    const i = waiters.indexOf(task);
    if (i >= 0) waiters.splice(i, 1);
    if (waiters.length === 0) this.#waiters.delete(key);
  }

  requestContinueAsNew(input: string | undefined, version: string | undefined,
    preserve: boolean | undefined): void {
    // Termination is final: a continue-as-new from a `finally` after it is ignored.
    if (this.#halted) return;
    this.#continueAsNew = { input, version, preserve: preserve ?? this.#behaviour === 'carryover' };
  }

  setCustomStatus(serialized: string): void {
    this.#customStatus = serialized;
  }

  newGuid(): string {
    const { instanceId, executionId } = this.started.orchestrationInstance;
    return deterministicGuid(instanceId, executionId, this.#guidCounter++);
  }

  // ---- event processing

  #feed(history: readonly HistoryEvent[], replaying: boolean): void {
    this.#isReplaying = replaying;
    try {
      for (const e of history) {
        this.#processed++;
        this.#process(e);
      }
    } finally {
      this.#isReplaying = false;
    }
  }

  #process(e: HistoryEvent): void {
    if (e.type === 'OrchestratorStarted') {
      this.#currentTimeMs = Date.parse(e.timestamp);
      return;
    }
    if (this.#halted) return;
    if (this.#suspended && e.type !== 'ExecutionResumed' && e.type !== 'ExecutionTerminated') {
      if (e.type !== 'ExecutionSuspended') this.#queued.push(e);
      return;
    }
    switch (e.type) {
      case 'ExecutionStarted': return this.#start(e);
      case 'ExecutionTerminated': return this.#terminate(e.input);
      case 'TaskScheduled':
      case 'TimerCreated':
      case 'SubOrchestrationInstanceCreated':
      case 'EventSent': return this.#match(e);
      case 'TaskCompleted':
        return this.#resolve(e, e.taskScheduledId, 'activity', (o) =>
          o.task.complete(deserializePayload(e.result, 'activity result')));
      case 'TaskFailed':
        return this.#resolve(e, e.taskScheduledId, 'activity', (o) => o.task.fail(
          new TaskFailedError(o.name, e.taskScheduledId, failureOf(e.reason, e.failureDetails))));
      case 'SubOrchestrationInstanceCompleted':
        return this.#resolve(e, e.taskScheduledId, 'subOrchestration', (o) =>
          o.task.complete(deserializePayload(e.result, 'sub-orchestration result')));
      case 'SubOrchestrationInstanceFailed':
        return this.#resolve(e, e.taskScheduledId, 'subOrchestration', (o) => o.task.fail(
          new SubOrchestrationFailedError(o.name, e.taskScheduledId,
            failureOf(e.reason, e.failureDetails))));
      case 'TimerFired': return this.#resolve(e, e.timerId, 'timer',
        (o) => o.task.complete(undefined));
      case 'EventRaised': return this.#raise(e);
      case 'ExecutionSuspended': return this.#suspend();
      case 'ExecutionResumed': return this.#resume();
      default: return;
    }
  }

  #start(e: ExecutionStartedEvent): void {
    if (this.#started) return;
    this.#started = e;
    if (this.#currentTimeMs === 0) this.#currentTimeMs = Date.parse(e.timestamp);
    const ctx = new ExecutorContext(this, this.#logger);
    let out: unknown;
    try {
      const input = deserializePayload(e.input, 'orchestration input');
      out = this.#orchestrator(ctx, input);
    } catch (err) {
      if (isSessionAborted(err)) throw err;
      this.#finishFunction({ error: err });
      return;
    }
    if (isGenerator(out)) {
      this.#generator = out;
      this.#step({ value: undefined });
    } else if (isThenable(out)) {
      out.then(undefined, () => undefined);
      this.#finishFunction({ error: new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `Orchestrator '${e.name}' returned a Promise. Orchestrators must be generator functions ` +
        '(function*) that yield tasks, or plain functions that return their output.') });
    } else {
      this.#finishFunction({ value: out });
    }
  }

  /** Runs the generator until it waits on a pending task or finishes. */
  #step(input: Outcome): void {
    const gen = this.#generator;
    if (!gen) return;
    let next = input;
    for (let steps = 0; ; steps++) {
      if (steps > MAX_STEPS_WITHOUT_WAIT) {
        this.#finishFunction({ error: new DurableTaskError(ErrorCode.INVALID_STATE,
          `Orchestrator made ${MAX_STEPS_WITHOUT_WAIT} steps without waiting on a ` +
          'pending task.') });
        return;
      }
      let r: IteratorResult<unknown, unknown>;
      try {
        r = 'error' in next ? gen.throw(next.error) : gen.next(next.value);
      } catch (err) {
        if (isSessionAborted(err)) throw err;
        this.#finishFunction({ error: err });
        return;
      }
      if (r.done) {
        this.#finishFunction({ value: r.value });
        return;
      }
      const y = r.value;
      if (!isTask(y)) {
        next = { error: new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
          `Orchestrator yielded ${describeValue(y)}; yield only tasks returned by the context ` +
          '(callActivity, createTimer, whenAll, ...).') };
        continue;
      }
      if (y.isCompleted) {
        next = y.isFailed ? { error: y.error } : { value: y.result };
        continue;
      }
      this.#awaiting = y;
      y.onDone((t) => {
        if (this.#awaiting !== t || this.#halted) return;
        this.#awaiting = undefined;
        this.#step(t.isFailed ? { error: t.error } : { value: t.result });
      });
      return;
    }
  }

  #finishFunction(outcome: Outcome): void {
    this.#fnDone = true;
    this.#fnOutcome = outcome;
    this.#generator = undefined;
  }

  #open<T>(id: number, kind: OpenKind, name: string): Task<T> {
    const task = new Task<T>(this.clock);
    this.#openTasks.set(id, { kind, name, task: task as Task<unknown> });
    return task;
  }

  #resolve(e: HistoryEvent, id: number, kind: OpenKind, settle: (o: OpenTask) => void): void {
    const open = this.#openTasks.get(id);
    if (!open || open.kind !== kind) {
      if (!this.#isReplaying && id !== SPLIT_TIMER_ID) {
        events.resultForUnknownTask(this.#logger, { ...this.#ids(), eventType: e.type,
          taskId: id });
      }
      return;
    }
    this.#openTasks.delete(id);
    try {
      settle(open);
    } catch (err) {
      // A stored result that does not parse fails the task instead of the replay.
      if (isSessionAborted(err)) throw err;
      open.task.fail(err);
    }
  }

  #match(e: DecisionEvent): void {
    if (e.type === 'TimerCreated' && e.eventId === SPLIT_TIMER_ID) return;
    const action = this.#pending.get(e.eventId);
    const err = checkDecision(e, action, this.#started?.name ?? '?');
    if (err) {
      events.nonDeterminismDetected(this.#logger, { ...this.#ids(), err });
      this.#halt('Failed', undefined, orchestrationFailure(err));
      return;
    }
    this.#pending.delete(e.eventId);
  }

  #raise(e: EventRaisedEvent): void {
    const key = e.name.toLowerCase();
    if (!this.#continueAsNew?.preserve) {
      const waiters = this.#waiters.get(key);
      const waiter = waiters?.shift();
      if (waiter) {
        if (waiters?.length === 0) this.#waiters.delete(key);
        this.#deliver(waiter, e);
        return;
      }
    }
    const buffered = { seq: this.#eventSeq++, event: e };
    const buffer = this.#buffers.get(key);
    if (buffer) buffer.push(buffered);
    else this.#buffers.set(key, [buffered]);
  }

  #deliver(task: Task<unknown>, e: EventRaisedEvent): void {
    let value: unknown;
    try {
      value = deserializePayload(e.input, `data of event '${e.name}'`);
    } catch (err) {
      task.fail(err);
      return;
    }
    task.complete(value);
  }

  #suspend(): void {
    this.#suspended = true;
    this.#held = [...this.#pending.values()];
    this.#pending.clear();
  }

  #resume(): void {
    if (!this.#suspended) return;
    this.#suspended = false;
    for (const a of this.#held ?? []) this.#pending.set(a.id, a);
    this.#held = undefined;
    const queued = this.#queued;
    this.#queued = [];
    for (const e of queued) this.#process(e);
  }

  #terminate(reason: string | undefined): void {
    this.#halt('Terminated', reason, undefined);
  }

  /**
   * Ends the execution now: drops unrecorded decisions, then returns the
   * generator so its `finally` blocks run; they cannot schedule anything.
   */
  #halt(status: 'Terminated' | 'Failed', result: string | undefined,
    failureDetails: FailureDetails | undefined): void {
    this.#halted = true;
    this.#suspended = false;
    this.#held = undefined;
    this.#queued = [];
    this.#pending.clear();
    this.#continueAsNew = undefined;
    const generator = this.#generator;
    this.#generator = undefined;
    this.#awaiting = undefined;
    this.#setCompletion({ kind: 'completeOrchestration', id: this.#nextId++, status, result,
      failureDetails });
    if (generator) this.#close(generator);
  }

  /**
   * Runs the `finally` blocks of an ended orchestrator (`return()`): the
   * scheduling calls throw there, a `yield` in them is returned again (a
   * bounded number of times), and what they throw is logged and dropped.
   */
  #close(generator: Generator<unknown, unknown, unknown>): void {
    try {
      for (let i = 0; i < MAX_FINALLY_YIELDS; i++) {
        if (generator.return(undefined).done) return;
      }
    } catch (err) {
      events.finallyFailed(this.#logger, { ...this.#ids(), err });
    }
  }

  #assertLive(what: string): void {
    if (!this.#halted) return;
    throw new DurableTaskError(ErrorCode.INVALID_STATE,
      `Cannot ${what}: the orchestration has ended (terminated or failed); code in a finally ` +
      'block after the end runs, but schedules nothing.');
  }

  #setCompletion(action: CompleteOrchestrationAction): void {
    this.#completion = action;
    this.#pending.set(action.id, action);
  }

  // ---- end of pass

  #result(): ExecutionResult {
    this.#completeIfDone();
    return {
      actions: this.#suspended ? [] : this.#sortedPending(),
      customStatus: this.#customStatus,
      completion: this.#completion,
      isSuspended: this.#suspended,
    };
  }

  #completeIfDone(): void {
    if (this.#completion || this.#suspended || !this.#fnDone || this.#openTasks.size > 0) return;
    const outcome = this.#fnOutcome ?? { value: undefined };
    const id = this.#nextId++;
    if ('error' in outcome) {
      if (this.#continueAsNew) events.failureBeatsContinueAsNew(this.#logger, this.#ids());
      this.#setCompletion({ kind: 'completeOrchestration', id, status: 'Failed',
        failureDetails: orchestrationFailure(outcome.error) });
      return;
    }
    const can = this.#continueAsNew;
    if (can) {
      this.#setCompletion({ kind: 'completeOrchestration', id, status: 'ContinuedAsNew',
        result: can.input, newVersion: can.version,
        carryoverEvents: can.preserve ? this.#unconsumedEvents() : [] });
      return;
    }
    let output: string | undefined;
    try {
      output = serializePayload(outcome.value, 'orchestration output');
    } catch (err) {
      this.#setCompletion({ kind: 'completeOrchestration', id, status: 'Failed',
        failureDetails: orchestrationFailure(err) });
      return;
    }
    this.#setCompletion({ kind: 'completeOrchestration', id, status: 'Completed', result: output });
  }

  #unconsumedEvents(): EventRaisedEvent[] {
    const all: Buffered[] = [];
    for (const b of this.#buffers.values()) all.push(...b);
    all.sort((a, b) => a.seq - b.seq);
    return all.map((b) => b.event);
  }

  #sortedPending(): OrchestratorAction[] {
    const actions = [...this.#pending.values()];
    for (let i = 1; i < actions.length; i++) {
      if ((actions[i - 1] as OrchestratorAction).id > (actions[i] as OrchestratorAction).id) {
        return actions.sort((a, b) => a.id - b.id);
      }
    }
    return actions;
  }

  #ids(): { instanceId: string; executionId?: string } {
    const inst = this.#started?.orchestrationInstance;
    return { instanceId: inst?.instanceId ?? '?', executionId: inst?.executionId };
  }
}

function describeValue(v: unknown): string {
  if (isThenable(v)) return 'a Promise';
  if (v === null) return 'null';
  if (typeof v === 'object') {
    return `an object that is not a task (${v.constructor?.name ?? 'Object'})`;
  }
  return `a ${typeof v} (${String(v).slice(0, 40)})`;
}
