import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { initialTransition, transition } from 'xstate';
import { WorkItemLockTable } from '../../../actors/work-item-lock.ts';
import {
  workItemEvent,
  workItemMachine,
  type WorkItemCall,
  type WorkItemStateName,
} from '../../../actors/work-item.machine.ts';
import { isDurableTaskError } from '../../../src/core/errors.ts';
import { assertProperty, budget } from '../support/fc-budget.ts';

// Random call sequences into the work-item machine (design §3), directly and through the
// lock wrapper the backends use. The reference below is the design's rule set:
// - locked: renew stays, complete -> completed, abandon -> abandoned, release -> released,
//   lose -> lost;
// - completed: release -> released, lose -> lost; only a session item may renew, complete
//   again or abandon;
// - abandoned, lost: only release; released: only release.
// Forbidden: a lock given up or lost is never held again; nothing but release leaves
// `released`. A refused call changes nothing and the wrapper reports LOCK_LOST.

const CALLS: readonly WorkItemCall[] = ['renew', 'complete', 'abandon', 'release', 'lose'];

function reference(
  state: WorkItemStateName,
  call: WorkItemCall,
  session: boolean,
): WorkItemStateName | null {
  switch (state) {
    case 'locked':
      return (
        {
          renew: 'locked',
          complete: 'completed',
          abandon: 'abandoned',
          release: 'released',
          lose: 'lost',
        } as const
      )[call];
    case 'completed':
      if (call === 'release') return 'released';
      if (call === 'lose') return 'lost';
      if (!session) return null;
      return call === 'abandon' ? 'abandoned' : 'completed';
    case 'abandoned':
    case 'lost':
    case 'released':
      return call === 'release' ? 'released' : null;
  }
}

const HELD: ReadonlySet<WorkItemStateName> = new Set(['locked', 'completed']);

describe('work-item machine', () => {
  it('should follow the design rules; a refused call changes nothing', async (t) => {
    const calls = fc.array(fc.constantFrom(...CALLS), { maxLength: 30 });
    await assertProperty(
      fc.property(fc.boolean(), calls, (session, seq) => {
        let snap = initialTransition(workItemMachine, { session })[0];
        const lock = new WorkItemLockTable({ session }).open('the work item');
        let expected: WorkItemStateName = 'locked';
        let everGone = false;
        for (const call of seq) {
          const next = reference(expected, call, session);
          const event = workItemEvent(call);
          assert.equal(snap.can(event), next !== null, `${expected} + ${call}`);
          const before = { value: snap.value, context: snap.context };
          const after = transition(workItemMachine, snap, event)[0];
          if (next === null) {
            assert.deepEqual({ value: after.value, context: after.context }, before);
            assert.throws(
              () => lock.apply(call),
              (e) => isDurableTaskError(e, 'LOCK_LOST'),
            );
            assert.equal(lock.tryApply(call), false);
            assert.equal(lock.state, expected, 'a refused call changed the lock');
          } else {
            snap = after;
            lock.apply(call);
            expected = next;
          }
          assert.equal(snap.value, expected);
          assert.equal(lock.state, expected);
          if (!HELD.has(expected)) everGone = true;
          assert.ok(!(everGone && HELD.has(expected)), 'a lost or given-up lock was held again');
          assert.equal(lock.isHeld, HELD.has(expected));
        }
      }),
      budget(t, { ci: 2_000, long: 100_000 }),
    );
  });
});
