import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import {
  workItemEvent,
  workItemMachine,
  type WorkItemCall,
  type WorkItemStateName,
} from '../../actors/work-item.machine.ts';
import { WorkItemLockTable } from '../../actors/work-item-lock.ts';
import { isDurableTaskError } from '../../src/core/errors.ts';

type Snap = SnapshotFrom<typeof workItemMachine>;

const CALLS: readonly WorkItemCall[] = ['renew', 'complete', 'abandon', 'release', 'lose'];

function reach(state: WorkItemStateName, session: boolean): Snap {
  let s = initialTransition(workItemMachine, { session })[0];
  const path: Record<WorkItemStateName, WorkItemCall[]> = {
    locked: [], completed: ['complete'], abandoned: ['abandon'], released: ['release'],
    lost: ['lose'],
  };
  for (const c of path[state]) s = transition(workItemMachine, s, workItemEvent(c))[0];
  assert.equal(s.value, state);
  return s;
}

type Table = Record<WorkItemStateName, Partial<Record<WorkItemCall, WorkItemStateName>>>;

const ORDINARY: Table = {
  locked: {
    renew: 'locked', complete: 'completed', abandon: 'abandoned', release: 'released',
    lose: 'lost',
  },
  completed: { release: 'released', lose: 'lost' },
  abandoned: { release: 'released' },
  released: { release: 'released' },
  lost: { release: 'released' },
};

const SESSION: Table = {
  ...ORDINARY,
  completed: {
    renew: 'completed', complete: 'completed', abandon: 'abandoned', release: 'released',
    lose: 'lost',
  },
};

function checkTable(name: string, table: Table, session: boolean): void {
  for (const [state, row] of Object.entries(table) as [WorkItemStateName, Table['locked']][]) {
    for (const call of CALLS) {
      const want = row[call];
      if (want) {
        it(`should accept ${call} in ${state} (${name}) and move to ${want}`, () => {
          const s = reach(state, session);
          assert.equal(s.can(workItemEvent(call)), true);
          assert.equal(transition(workItemMachine, s, workItemEvent(call))[0].value, want);
        });
      } else {
        it(`should reject ${call} in ${state} (${name}) and leave the state unchanged`, () => {
          const s = reach(state, session);
          assert.equal(s.can(workItemEvent(call)), false);
          const next = transition(workItemMachine, s, workItemEvent(call))[0];
          assert.equal(next.value, state);
          assert.deepEqual(next.context, s.context);
        });
      }
    }
  }
}

describe('workItemMachine', () => {
  it('should start locked, not a session by default', () => {
    const s = initialTransition(workItemMachine, {})[0];
    assert.equal(s.value, 'locked');
    assert.equal(s.context.session, false);
  });
  checkTable('ordinary', ORDINARY, false);
  checkTable('session', SESSION, true);

  it('should allow a session to checkpoint several times, then release', () => {
    let s = initialTransition(workItemMachine, { session: true })[0];
    for (const c of ['renew', 'complete', 'renew', 'complete', 'complete', 'release'] as const) {
      assert.equal(s.can(workItemEvent(c)), true, c);
      s = transition(workItemMachine, s, workItemEvent(c))[0];
    }
    assert.equal(s.value, 'released');
  });
});

describe('WorkItemLock', () => {
  it('should apply accepted calls and throw LOCK_LOST naming the state otherwise', () => {
    const table = new WorkItemLockTable();
    const lock = table.open("work item 'x'");
    lock.apply('renew');
    lock.apply('abandon');
    assert.equal(lock.state, 'abandoned');
    assert.equal(lock.isHeld, false);
    assert.throws(() => lock.apply('renew'), (err: unknown) =>
      isDurableTaskError(err, 'LOCK_LOST') && /renew work item 'x'.*abandoned/.test(err.message));
    assert.equal(lock.state, 'abandoned');
    lock.apply('release');
    lock.apply('release');
    assert.equal(lock.state, 'released');
  });

  it('should reject complete after loss and abandon after complete', () => {
    const table = new WorkItemLockTable();
    const a = table.open('a');
    a.apply('lose');
    assert.throws(() => a.check('complete'), /lost/);
    assert.equal(a.tryApply('complete'), false);
    const b = table.open('b');
    b.apply('complete');
    assert.equal(b.isHeld, true);
    assert.throws(() => b.apply('abandon'), /already completed/);
    assert.throws(() => b.apply('complete'), /already completed/);
    assert.equal(b.state, 'completed');
  });

  it('should keep locks of one table independent', () => {
    const table = new WorkItemLockTable();
    const a = table.open('a');
    const b = table.open('b');
    a.apply('complete');
    assert.equal(b.state, 'locked');
    b.apply('lose');
    assert.equal(a.state, 'completed');
  });

  it('should let a session table complete twice', () => {
    const lock = new WorkItemLockTable({ session: true }).open('s');
    lock.apply('complete');
    lock.apply('complete');
    lock.apply('abandon');
    assert.equal(lock.state, 'abandoned');
  });

  it('should match the machine for every state and call', () => {
    for (const session of [false, true]) {
      const table = new WorkItemLockTable({ session });
      for (const state of Object.keys(ORDINARY) as WorkItemStateName[]) {
        for (const call of CALLS) {
          const s = reach(state, session);
          const lock = table.open('x');
          for (const c of ({ locked: [], completed: ['complete'], abandoned: ['abandon'],
            released: ['release'], lost: ['lose'] } as Record<string, WorkItemCall[]>)[state]!) {
            lock.apply(c);
          }
          assert.equal(lock.can(call), s.can(workItemEvent(call)), `${state} ${call} ${session}`);
        }
      }
    }
  });
});
