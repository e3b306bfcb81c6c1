import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { DurableTaskError, ErrorCode } from '../src/core/errors.ts';
import {
  workItemEvent,
  workItemMachine,
  type WorkItemCall,
  type WorkItemStateName,
} from './work-item.machine.ts';

type Snapshot = SnapshotFrom<typeof workItemMachine>;

/**
 * Makes work-item locks for one backend. The machine's context is fixed at
 * creation (`session`), so the next snapshot depends only on the current state
 * and the call: each table memoizes the pure `transition()` results and a
 * lock check costs a map lookup on the hot path. Tables are per backend
 * instance; nothing is shared between backends.
 */
export class WorkItemLockTable {
  private readonly initial: Snapshot;
  private readonly next = new Map<string, Snapshot | null>();

  constructor(options: { session?: boolean } = {}) {
    this.initial = initialTransition(workItemMachine, { session: options.session ?? false })[0];
  }

  /** A new lock in state `locked`. `label` names the work item in error messages. */
  open(label: string): WorkItemLock {
    return new WorkItemLock(this, this.initial, label);
  }

  /** The snapshot after `call`, or null when the machine rejects it. */
  step(snapshot: Snapshot, call: WorkItemCall): Snapshot | null {
    const key = `${String(snapshot.value)}|${call}`;
    let result = this.next.get(key);
    if (result === undefined) {
      const event = workItemEvent(call);
      result = snapshot.can(event) ? transition(workItemMachine, snapshot, event)[0] : null;
      this.next.set(key, result);
    }
    return result;
  }
}

/**
 * The lock state of one work item. `check` and `apply` throw `LOCK_LOST`
 * naming the state when the machine rejects a call; a rejected call changes
 * nothing.
 */
export class WorkItemLock {
  private snapshot: Snapshot;

  constructor(
    private readonly table: WorkItemLockTable,
    initial: Snapshot,
    readonly label: string,
  ) {
    this.snapshot = initial;
  }

  get state(): WorkItemStateName {
    return this.snapshot.value as WorkItemStateName;
  }

  /** True while the holder still owns the lock (locked, or completed and not yet released). */
  get isHeld(): boolean {
    const s = this.state;
    return s === 'locked' || s === 'completed';
  }

  can(call: WorkItemCall): boolean {
    return this.table.step(this.snapshot, call) !== null;
  }

  /** Throws `LOCK_LOST` when `call` is not accepted in the current state. */
  check(call: WorkItemCall): void {
    if (!this.can(call)) throw this.rejection(call);
  }

  /** Applies `call`, or throws `LOCK_LOST` and leaves the state unchanged. */
  apply(call: WorkItemCall): void {
    const next = this.table.step(this.snapshot, call);
    if (next === null) throw this.rejection(call);
    this.snapshot = next;
  }

  /** Applies `call` when accepted; returns whether it was. */
  tryApply(call: WorkItemCall): boolean {
    const next = this.table.step(this.snapshot, call);
    if (next === null) return false;
    this.snapshot = next;
    return true;
  }

  private rejection(call: WorkItemCall): DurableTaskError {
    return new DurableTaskError(ErrorCode.LOCK_LOST,
      `Cannot ${call} ${this.label}: its lock is ${describe(this.state)}.`);
  }
}

function describe(state: WorkItemStateName): string {
  switch (state) {
    case 'locked': return 'held';
    case 'completed': return 'held but already completed';
    case 'abandoned': return 'gone (the work item was abandoned)';
    case 'released': return 'gone (the work item was released)';
    case 'lost': return 'lost (it lapsed or was taken by another holder)';
  }
}
