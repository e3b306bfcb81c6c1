import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import {
  orchestrationMachine,
  statusOfState,
  STATUS_EVENT_TYPES,
  type OrchestrationMachineState,
} from '../../actors/orchestration.machine.ts';
import { DurableTaskError, ErrorCode } from './errors.ts';
import type { FailureDetails } from './failure-details.ts';
import { failureToString } from './failure-details.ts';
import type {
  ContinueAsNewEvent,
  ExecutionCompletedEvent,
  ExecutionStartedEvent,
  HistoryEvent,
  Tags,
} from './history-event.ts';
import type { OrchestrationInstance, ParentInstance } from './orchestration-instance.ts';
import type { OrchestrationState } from './orchestration-state.ts';
import type { OrchestrationStatus } from './orchestration-status.ts';

type MachineSnapshot = SnapshotFrom<typeof orchestrationMachine>;

let initialSnapshot: MachineSnapshot | undefined;
function startSnapshot(): MachineSnapshot {
  // The initial snapshot is immutable and shared: transition() never mutates it.
  initialSnapshot ??= initialTransition(orchestrationMachine)[0];
  return initialSnapshot;
}

/**
 * Memo of the machine's pure transitions. The machine has no context and its
 * guards read only the completion status, so the next snapshot depends on the
 * state, the event type and that status alone: each is computed once.
 */
const nextSnapshots = new Map<string, MachineSnapshot>();

function nextSnapshot(snapshot: MachineSnapshot, event: HistoryEvent): MachineSnapshot {
  const status = event.type === 'ExecutionCompleted' ? event.orchestrationStatus : '';
  const key = `${String(snapshot.value)}|${event.type}|${status}`;
  let next = nextSnapshots.get(key);
  if (!next) {
    next = transition(orchestrationMachine, snapshot, event)[0];
    nextSnapshots.set(key, next);
  }
  return next;
}

/**
 * What a runtime state has folded from its events so far (started and
 * completion events, the orchestration machine's snapshot), so that a backend
 * that keeps an instance's history between episodes can resume a state
 * without folding the whole history again (`OrchestrationRuntimeState.resume`).
 * Opaque outside this module.
 */
export interface RuntimeStateFold {
  readonly started: ExecutionStartedEvent | undefined;
  readonly completed: ExecutionCompletedEvent | ContinueAsNewEvent | undefined;
  readonly snapshot: unknown;
}

/**
 * The history of the current execution of one instance, split into events
 * loaded from storage (`pastEvents`) and events appended during this episode
 * (`newEvents`). Status is derived by folding the events through the
 * orchestration machine.
 */
export class OrchestrationRuntimeState {
  readonly events: HistoryEvent[] = [];
  readonly pastEvents: HistoryEvent[] = [];
  readonly newEvents: HistoryEvent[] = [];
  /** Custom status (serialized JSON) as last set by the orchestrator. */
  customStatus: string | null | undefined;

  private started: ExecutionStartedEvent | undefined;
  private completed: ExecutionCompletedEvent | ContinueAsNewEvent | undefined;
  private snapshot: MachineSnapshot = startSnapshot();
  private seenTaskCompletions: Set<number> | undefined;
  /** Task completions recorded before a resume (read only; set by `resume`). */
  private seenBefore: ReadonlySet<number> | undefined;

  constructor(pastEvents: readonly HistoryEvent[] = [], customStatus?: string | null) {
    for (const e of pastEvents) this.add(e, false);
    this.customStatus = customStatus;
  }

  /**
   * A runtime state over `pastEvents` that takes what was folded from them
   * (`fold`, from `foldOf()` of a state over the same events) instead of
   * folding them again: the same state the constructor would build, in time
   * independent of the history's length but for one array copy.
   * `pastEvents` becomes the state's `pastEvents` array and must not change
   * afterwards; `taskCompletions` holds the event ids of the TaskCompleted
   * events among them (with ids >= 0) and is only read.
   */
  static resume(
    pastEvents: readonly HistoryEvent[],
    fold: RuntimeStateFold,
    taskCompletions: ReadonlySet<number>,
    customStatus?: string | null,
  ): OrchestrationRuntimeState {
    const state = new OrchestrationRuntimeState([], customStatus);
    const fields = state as unknown as { events: HistoryEvent[]; pastEvents: HistoryEvent[] };
    fields.events = pastEvents.slice();
    fields.pastEvents = pastEvents as HistoryEvent[];
    state.started = fold.started;
    state.completed = fold.completed;
    state.snapshot = fold.snapshot as MachineSnapshot;
    state.seenBefore = taskCompletions;
    return state;
  }

  /** What this state has folded from its events so far (see `resume`). */
  foldOf(): RuntimeStateFold {
    return { started: this.started, completed: this.completed, snapshot: this.snapshot };
  }

  /** Appends an event produced in this episode. */
  addEvent(event: HistoryEvent): void {
    this.add(event, true);
  }

  private add(event: HistoryEvent, isNew: boolean): void {
    if (event.type === 'TaskCompleted' && event.eventId >= 0) {
      // A completion with a real event id that was already recorded is a duplicate.
      this.seenTaskCompletions ??= new Set();
      if (this.seenTaskCompletions.has(event.eventId)) return;
      if (this.seenBefore?.has(event.eventId)) return;
      this.seenTaskCompletions.add(event.eventId);
    }
    if (event.type === 'ExecutionStarted') {
      if (this.started) {
        throw new DurableTaskError(
          ErrorCode.CORRUPT_HISTORY,
          `A second ExecutionStarted event was added to instance ` +
            `'${this.started.orchestrationInstance.instanceId}'.`,
        );
      }
      this.started = event;
    }
    if (STATUS_EVENT_TYPES.has(event.type)) {
      const before = this.snapshot.value;
      this.snapshot = nextSnapshot(this.snapshot, event);
      const changedToFinal =
        this.snapshot.value !== before &&
        (event.type === 'ExecutionCompleted' || event.type === 'ContinueAsNew');
      if (changedToFinal) this.completed = event;
    }
    this.events.push(event);
    (isNew ? this.newEvents : this.pastEvents).push(event);
  }

  get executionStartedEvent(): ExecutionStartedEvent | undefined {
    return this.started;
  }

  /** The completion event that decided the status (ExecutionCompleted or ContinueAsNew). */
  get executionCompletedEvent(): ExecutionCompletedEvent | ContinueAsNewEvent | undefined {
    return this.completed;
  }

  /** Machine state name, for diagnostics and diagrams. */
  get machineState(): OrchestrationMachineState {
    return this.snapshot.value as OrchestrationMachineState;
  }

  get orchestrationStatus(): OrchestrationStatus {
    this.requireStarted('orchestrationStatus');
    return statusOfState(this.machineState);
  }

  get orchestrationInstance(): Required<OrchestrationInstance> | undefined {
    return this.started?.orchestrationInstance;
  }

  get parentInstance(): ParentInstance | undefined {
    return this.started?.parentInstance;
  }

  get name(): string {
    return this.requireStarted('name').name;
  }

  get version(): string {
    return this.requireStarted('version').version;
  }

  get input(): string | undefined {
    return this.requireStarted('input').input;
  }

  get tags(): Tags | undefined {
    return this.started?.tags;
  }

  get output(): string | undefined {
    const c = this.completed;
    if (!c) return undefined;
    if (c.type === 'ExecutionCompleted' && c.failureDetails)
      return failureToString(c.failureDetails);
    return c.result;
  }

  get failureDetails(): FailureDetails | undefined {
    const c = this.completed;
    return c?.type === 'ExecutionCompleted' ? c.failureDetails : undefined;
  }

  get createdTime(): Date {
    return new Date(this.requireStarted('createdTime').timestamp);
  }

  get completedTime(): Date | null {
    return this.completed ? new Date(this.completed.timestamp) : null;
  }

  /**
   * True when there are no events, only an `OrchestratorStarted` marker, or an
   * `ExecutionStarted` is present. Anything else is a damaged history.
   */
  get isValid(): boolean {
    if (this.events.length === 0) return true;
    if (this.events.length === 1 && this.events[0]?.type === 'OrchestratorStarted') return true;
    return this.started !== undefined;
  }

  private requireStarted(what: string): ExecutionStartedEvent {
    if (!this.started) {
      throw new DurableTaskError(
        ErrorCode.CORRUPT_HISTORY,
        `Cannot read '${what}': the runtime state has no ExecutionStarted event.`,
      );
    }
    return this.started;
  }
}

/**
 * Builds the status record of a runtime state. `now` stamps `lastUpdatedTime`;
 * the custom status comes from the runtime state.
 */
export function buildOrchestrationState(
  state: OrchestrationRuntimeState,
  now: number = Date.now(),
): OrchestrationState {
  const started = state.executionStartedEvent;
  if (!started) {
    throw new DurableTaskError(
      ErrorCode.CORRUPT_HISTORY,
      'Cannot build a status record from a runtime state without an ExecutionStarted event.',
    );
  }
  const failureDetails = state.failureDetails;
  return {
    orchestrationInstance: started.orchestrationInstance,
    ...(started.parentInstance ? { parentInstance: started.parentInstance } : {}),
    name: started.name,
    version: started.version,
    orchestrationStatus: state.orchestrationStatus,
    customStatus: state.customStatus ?? null,
    ...(started.input !== undefined ? { input: started.input } : {}),
    ...(state.output !== undefined ? { output: state.output } : {}),
    ...(started.tags ? { tags: started.tags } : {}),
    createdTime: new Date(started.timestamp),
    lastUpdatedTime: new Date(now),
    completedTime: state.completedTime,
    scheduledStartTime: started.scheduledStartTime ? new Date(started.scheduledStartTime) : null,
    ...(failureDetails ? { failureDetails } : {}),
    ...(started.generation !== undefined ? { generation: started.generation } : {}),
  };
}
