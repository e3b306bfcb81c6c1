import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import {
  leaseUsable,
  partitionLeaseMachine,
  type PartitionLeaseEvent,
  type PartitionLeaseStateName,
} from '../../actors/partition-lease.machine.ts';

type Snap = SnapshotFrom<typeof partitionLeaseMachine>;
const m = partitionLeaseMachine;
const send = (s: Snap, e: PartitionLeaseEvent): Snap => transition(m, s, e)[0];

const ACQUIRE: PartitionLeaseEvent = { type: 'lease.acquire' };
const GRANTED: PartitionLeaseEvent = { type: 'lease.granted', revision: 5, until: 10_000 };
const DENIED: PartitionLeaseEvent = { type: 'lease.denied', reason: 'owned by w2' };
const RENEWED: PartitionLeaseEvent = { type: 'lease.renewed', revision: 6, until: 20_000 };
const STALE: PartitionLeaseEvent = { type: 'lease.renewed', revision: 5, until: 30_000 };
const LOST: PartitionLeaseEvent = { type: 'lease.lost', reason: 'revision mismatch' };
const EARLY: PartitionLeaseEvent = { type: 'lease.tick', now: 1_000 };
const LATE: PartitionLeaseEvent = { type: 'lease.tick', now: 9_500 };
const DRAIN: PartitionLeaseEvent = { type: 'lease.drain' };
const RELEASED: PartitionLeaseEvent = { type: 'lease.released' };
const RESET: PartitionLeaseEvent = { type: 'lease.reset' };

const EVENTS: Record<string, PartitionLeaseEvent> = {
  acquire: ACQUIRE, granted: GRANTED, denied: DENIED, renewed: RENEWED, staleRenewal: STALE,
  lost: LOST, tickEarly: EARLY, tickLate: LATE, drain: DRAIN, released: RELEASED, reset: RESET,
};

function initial(): Snap {
  return initialTransition(m, { partition: 3, marginMs: 1_000 })[0];
}

function reach(state: PartitionLeaseStateName): Snap {
  const paths: Record<PartitionLeaseStateName, PartitionLeaseEvent[]> = {
    unowned: [], acquiring: [ACQUIRE], owned: [ACQUIRE, GRANTED],
    draining: [ACQUIRE, GRANTED, DRAIN], lost: [ACQUIRE, GRANTED, LOST],
  };
  let s = initial();
  for (const e of paths[state]) s = send(s, e);
  assert.equal(s.value, state);
  return s;
}

const TABLE: Record<PartitionLeaseStateName, Partial<Record<string, PartitionLeaseStateName>>> = {
  unowned: { acquire: 'acquiring' },
  acquiring: { granted: 'owned', denied: 'unowned', lost: 'unowned' },
  owned: { renewed: 'owned', lost: 'lost', tickLate: 'lost', drain: 'draining' },
  draining: { renewed: 'draining', lost: 'lost', tickLate: 'lost', released: 'unowned' },
  lost: { reset: 'unowned' },
};

describe('partitionLeaseMachine', () => {
  it('should start unowned with the partition in its context', () => {
    const s = initial();
    assert.equal(s.value, 'unowned');
    assert.equal(s.context.partition, 3);
    assert.equal(s.context.revision, 0);
  });

  type Row = [PartitionLeaseStateName, (typeof TABLE)['owned']];
  for (const [state, row] of Object.entries(TABLE) as Row[]) {
    for (const [name, event] of Object.entries(EVENTS)) {
      const want = row[name];
      if (want) {
        it(`should accept ${name} in ${state} and move to ${want}`, () => {
          const s = reach(state);
          assert.equal(s.can(event), true);
          assert.equal(send(s, event).value, want);
        });
      } else {
        it(`should reject ${name} in ${state} and leave the state unchanged`, () => {
          const s = reach(state);
          assert.equal(s.can(event), false);
          const next = send(s, event);
          assert.equal(next.value, state);
          assert.deepEqual(next.context, s.context);
        });
      }
    }
  }

  it('should hold the revision and deadline of the latest grant or renewal', () => {
    let s = reach('owned');
    assert.equal(s.context.revision, 5);
    assert.equal(s.context.until, 10_000);
    s = send(s, RENEWED);
    assert.equal(s.context.revision, 6);
    assert.equal(s.context.until, 20_000);
    assert.equal(leaseUsable('owned', s.context, 18_999), true);
    assert.equal(leaseUsable('owned', s.context, 19_000), false);
  });

  it('should lose the lease on a tick past the deadline less the margin, with a reason', () => {
    const s = send(reach('owned'), { type: 'lease.tick', now: 9_000 });
    assert.equal(s.value, 'lost');
    assert.match(String(s.context.reason), /deadline/);
    assert.equal(s.context.revision, 0);
    assert.equal(leaseUsable('lost', s.context, 0), false);
  });

  it('should keep renewing while draining and hand the partition back', () => {
    let s = send(reach('draining'), RENEWED);
    assert.equal(s.value, 'draining');
    assert.equal(leaseUsable('draining', s.context, 15_000), true);
    s = send(s, RELEASED);
    assert.equal(s.value, 'unowned');
    assert.equal(s.context.until, 0);
  });

  it('should record why an acquisition was denied and allow a retry', () => {
    let s = send(reach('acquiring'), DENIED);
    assert.equal(s.context.reason, 'owned by w2');
    s = send(s, ACQUIRE);
    assert.equal(s.value, 'acquiring');
  });

  it('should come back to unowned only after a reset once lost', () => {
    const s = reach('lost');
    assert.equal(s.context.reason, 'revision mismatch');
    assert.equal(send(s, ACQUIRE).value, 'lost');
    assert.equal(send(s, RESET).value, 'unowned');
  });
});
