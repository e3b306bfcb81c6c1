import type { Logger } from 'pino';
import type { WorkItemLock } from '../../actors/work-item-lock.ts';
import type { HistoryEvent } from '../core/history-event.ts';
import type { OrchestrationState } from '../core/orchestration-state.ts';
import { isLiveStatus } from '../core/orchestration-status.ts';
import type { TaskMessage } from '../core/task-message.ts';
import { messageDiscarded, type DiscardReason } from '../logging/memory-events.ts';

/** A pending orchestration message; `seq` is the hub-wide enqueue order. */
export interface QueuedMessage {
  readonly seq: number;
  readonly message: TaskMessage;
  /** Work items holding it that failed (abandoned as a failure, or lapsed). */
  failures: number;
}

/** One execution of an instance: its status record and committed history. */
export interface ExecutionRecord {
  readonly executionId: string;
  state: OrchestrationState;
  readonly history: HistoryEvent[];
}

export interface OrchestrationLockToken {
  readonly kind: 'orchestration';
  /** The backend (process view) that handed the work item out. */
  readonly owner: object;
  readonly instanceId: string;
  readonly generation: number;
  readonly lock: WorkItemLock;
}

export interface OrchestrationLock {
  readonly token: OrchestrationLockToken;
  until: number;
  /** Sequence numbers of the locked batch (a prefix of the queue when it was locked). */
  readonly seqs: ReadonlySet<number>;
  readonly headSeq: number;
  /** The execution that was current when the lock was taken. */
  readonly executionId: string;
}

export interface InstanceRecord {
  readonly instanceId: string;
  /** Every execution, oldest first; `current` is the last one. */
  readonly executions: ExecutionRecord[];
  current: ExecutionRecord;
  /** Pending messages in enqueue order; a held lock covers a prefix of them. */
  queue: QueuedMessage[];
  lock: OrchestrationLock | null;
  /** Not deliverable before this time (abandon back-off). */
  notBefore: number;
  /** Head of the batch abandoned last, and how many times in a row. */
  abandonHeadSeq: number;
  abandonCount: number;
  /** The backend that abandoned the last batch: others get it first (fair redelivery). */
  abandonedBy: object | null;
  /** Most failures of any queued message (0 when none failed). */
  maxFailures: number;
  /** `<executionId>:<taskScheduledId>` of activity results already delivered. */
  readonly deliveredResults: Set<string>;
}

export interface TimerEntry {
  readonly due: number;
  readonly seq: number;
  readonly instanceId: string;
  readonly message: TaskMessage;
}

export interface ActivityLockToken {
  readonly kind: 'activity';
  readonly owner: object;
  readonly seq: number;
  readonly generation: number;
  readonly lock: WorkItemLock;
}

export interface ActivityEntry {
  readonly seq: number;
  readonly id: string;
  readonly message: TaskMessage;
  deliveryCount: number;
  lock: { readonly token: ActivityLockToken; until: number } | null;
  notBefore: number;
  abandonCount: number;
  /** Deliveries that failed (abandoned as a failure, or lapsed). */
  failures: number;
  /** The backend that abandoned it last: others get it first (fair redelivery). */
  abandonedBy: object | null;
}

/**
 * All state of one in-memory task hub: instances (status records, history,
 * pending messages, lock), due timers and the activity queue. Every method is
 * synchronous, so each public backend call is atomic with respect to others.
 */
export class MemoryStore {
  readonly instances = new Map<string, InstanceRecord>();
  /** Unlocked or locked instances that have pending messages. */
  readonly candidates = new Set<InstanceRecord>();
  readonly lockedInstances = new Set<InstanceRecord>();
  /** Due timers, ordered by (due, seq). */
  timers: TimerEntry[] = [];
  /** Activity messages in enqueue order. */
  readonly activities = new Map<number, ActivityEntry>();
  readonly lockedActivities = new Set<ActivityEntry>();
  private seq = 0;
  private generation = 0;

  constructor(
    private readonly log: Logger,
    /** Called whenever a status record of an instance changes or the instance goes away. */
    readonly onStatusChange: (instanceId: string) => void,
  ) {}

  nextSeq(): number {
    return ++this.seq;
  }

  nextGeneration(): number {
    return ++this.generation;
  }

  /** A new instance whose only execution is `state` (normally Pending). */
  addInstance(state: OrchestrationState): InstanceRecord {
    const current: ExecutionRecord = {
      executionId: state.orchestrationInstance.executionId, state, history: [],
    };
    const rec: InstanceRecord = {
      instanceId: state.orchestrationInstance.instanceId,
      executions: [current],
      current,
      queue: [],
      lock: null,
      notBefore: 0,
      abandonHeadSeq: -1,
      abandonCount: 0,
      abandonedBy: null,
      maxFailures: 0,
      deliveredResults: new Set(),
    };
    this.instances.set(rec.instanceId, rec);
    this.onStatusChange(rec.instanceId);
    return rec;
  }

  /** Makes `state` the current execution of `rec` (re-creation, continue-as-new). */
  addExecution(rec: InstanceRecord, state: OrchestrationState, history: HistoryEvent[] = []): void {
    const exec: ExecutionRecord = {
      executionId: state.orchestrationInstance.executionId, state, history,
    };
    rec.executions.push(exec);
    rec.current = exec;
    this.onStatusChange(rec.instanceId);
  }

  findExecution(rec: InstanceRecord, executionId: string): ExecutionRecord | undefined {
    for (let i = rec.executions.length - 1; i >= 0; i--) {
      const e = rec.executions[i];
      if (e?.executionId === executionId) return e;
    }
    return undefined;
  }

  /** Appends a message to an instance's queue. */
  enqueue(rec: InstanceRecord, message: TaskMessage): void {
    rec.queue.push({ seq: this.nextSeq(), message, failures: 0 });
    this.candidates.add(rec);
  }

  /**
   * Delivers an orchestration-side message (not a start) to its instance.
   * Messages for unknown or finished instances, and for an execution that is
   * not current, are discarded and logged. Returns whether it was queued.
   */
  route(message: TaskMessage): boolean {
    const instanceId = message.orchestrationInstance.instanceId;
    const rec = this.instances.get(instanceId);
    if (!rec) {
      this.discard(message, 'unknown-instance');
      return false;
    }
    const reason = this.dropReason(rec, message);
    if (reason) {
      this.discard(message, reason);
      return false;
    }
    this.enqueue(rec, message);
    return true;
  }

  /** Why a message that is not the current execution's start cannot be delivered, if so. */
  private dropReason(rec: InstanceRecord, message: TaskMessage): DiscardReason | undefined {
    const exec = rec.current;
    // TODO: rewind is not offered (contract 3.13, optional), so an ExecutionRewound for a
    // Failed instance is discarded like any message to a finished instance.
    if (!isLiveStatus(exec.state.orchestrationStatus)) return 'instance-finished';
    if (message.event.type === 'ExecutionStarted') return 'duplicate-start';
    const target = message.orchestrationInstance.executionId;
    if (target && target !== exec.executionId) return 'stale-execution';
    return undefined;
  }

  discard(message: TaskMessage, reason: DiscardReason): void {
    messageDiscarded(this.log, {
      instanceId: message.orchestrationInstance.instanceId,
      executionId: message.orchestrationInstance.executionId,
      eventType: message.event.type,
      reason,
    });
  }

  /**
   * Drops the pending messages of an unlocked instance that can never be
   * delivered: everything once the instance finished; before the current
   * execution's start, whatever was queued for an older execution; afterwards
   * duplicate starts and messages naming another execution.
   */
  prune(rec: InstanceRecord): void {
    if (rec.lock) return;
    if (rec.queue.length === 0) {
      this.candidates.delete(rec);
      return;
    }
    const exec = rec.current;
    const pending = exec.state.orchestrationStatus === 'Pending';
    const startAt = pending
      ? rec.queue.findIndex((q) => isStartOf(q.message, exec.executionId)) : -1;
    let changed = false;
    const keep: QueuedMessage[] = [];
    for (let i = 0; i < rec.queue.length; i++) {
      const q = rec.queue[i]!;
      let reason: DiscardReason | undefined;
      if (i === startAt) reason = undefined;
      else if (i < startAt) reason = 'superseded-by-new-execution';
      else reason = this.dropReason(rec, q.message);
      if (reason) {
        changed = true;
        this.discard(q.message, reason);
      } else {
        keep.push(q);
      }
    }
    if (changed) {
      rec.queue = keep;
      rec.maxFailures = 0;
      for (const q of keep) if (q.failures > rec.maxFailures) rec.maxFailures = q.failures;
    }
    if (rec.queue.length === 0) this.candidates.delete(rec);
  }

  /** Registers a `TimerFired` message to be queued at `due`. */
  addTimer(instanceId: string, message: TaskMessage, due: number): void {
    const entry: TimerEntry = { due, seq: this.nextSeq(), instanceId, message };
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const t = this.timers[mid]!;
      if (t.due < due || (t.due === due && t.seq < entry.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.timers.splice(lo, 0, entry);
  }

  /** Queues every timer due at `now`, stamped with the delivery time. Returns how many. */
  fireDueTimers(now: number): number {
    let n = 0;
    while (n < this.timers.length && this.timers[n]!.due <= now) n++;
    if (n === 0) return 0;
    const due = this.timers.splice(0, n);
    const stamp = new Date(now).toISOString();
    for (const t of due) {
      this.route({ ...t.message, event: { ...t.message.event, timestamp: stamp } });
    }
    return n;
  }

  /** Drops the timers of one execution (it finished) or of the whole instance (purge). */
  dropTimers(instanceId: string, executionId?: string): void {
    if (this.timers.length === 0) return;
    this.timers = this.timers.filter((t) => t.instanceId !== instanceId ||
      (executionId !== undefined && t.message.orchestrationInstance.executionId !== executionId));
  }

  /** Takes the orchestration lock away from its holder (lapsed, replaced, purged, stopped). */
  loseOrchestrationLock(rec: InstanceRecord): void {
    const lock = rec.lock;
    if (!lock) return;
    lock.token.lock.tryApply('lose');
    rec.lock = null;
    this.lockedInstances.delete(rec);
    if (rec.queue.length > 0) this.candidates.add(rec);
  }

  loseActivityLock(entry: ActivityEntry): void {
    if (!entry.lock) return;
    entry.lock.token.lock.tryApply('lose');
    entry.lock = null;
    this.lockedActivities.delete(entry);
  }

  /** Removes every trace of an instance: records, history, queue, timers, activities. */
  removeInstance(rec: InstanceRecord): void {
    this.loseOrchestrationLock(rec);
    this.instances.delete(rec.instanceId);
    this.candidates.delete(rec);
    this.dropTimers(rec.instanceId);
    for (const entry of [...this.activities.values()]) {
      if (entry.message.orchestrationInstance.instanceId !== rec.instanceId) continue;
      this.loseActivityLock(entry);
      this.activities.delete(entry.seq);
    }
    this.onStatusChange(rec.instanceId);
  }

  /** Empties the queues (orchestration messages, timers, activities), optionally the records. */
  clear(includeInstances: boolean): void {
    for (const rec of this.instances.values()) {
      this.loseOrchestrationLock(rec);
      rec.queue = [];
      rec.notBefore = 0;
    }
    this.candidates.clear();
    this.timers = [];
    for (const entry of this.activities.values()) this.loseActivityLock(entry);
    this.activities.clear();
    if (includeInstances) {
      const ids = [...this.instances.keys()];
      this.instances.clear();
      for (const id of ids) this.onStatusChange(id);
    }
  }
}

export function isStartOf(message: TaskMessage, executionId: string): boolean {
  return message.event.type === 'ExecutionStarted' &&
    message.event.orchestrationInstance.executionId === executionId;
}
