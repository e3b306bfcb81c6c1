import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { initialTransition, transition } from 'xstate';
import {
  leaseUsable,
  partitionLeaseMachine,
  type PartitionLeaseEvent,
  type PartitionLeaseStateName,
} from '../../../actors/partition-lease.machine.ts';
import { assertProperty, budget } from '../support/fc-budget.ts';

// Random event sequences into the partition-lease machine of the NATS backend (design
// §3, §9.3). Reference: unowned -acquire-> acquiring -granted-> owned (-denied/lost->
// unowned); owned and draining accept only renewals with a newer revision, lapse on a
// tick past the deadline less the margin, are lost on `lost`; owned -drain-> draining
// -released-> unowned; lost -reset-> unowned. Forbidden: work allowed (leaseUsable)
// outside owned/draining or past the deadline; a revision going backwards while held.
// A refused event changes nothing.

const MARGIN = 250;

type Kind = PartitionLeaseEvent['type'];
const KINDS: readonly Kind[] = [
  'lease.acquire',
  'lease.granted',
  'lease.denied',
  'lease.renewed',
  'lease.lost',
  'lease.tick',
  'lease.drain',
  'lease.released',
  'lease.reset',
];

interface Ctx {
  readonly revision: number;
  readonly until: number;
}

function reference(
  state: PartitionLeaseStateName,
  ctx: Ctx,
  e: PartitionLeaseEvent,
): PartitionLeaseStateName | null {
  const held = state === 'owned' || state === 'draining';
  switch (e.type) {
    case 'lease.acquire':
      return state === 'unowned' ? 'acquiring' : null;
    case 'lease.granted':
      return state === 'acquiring' ? 'owned' : null;
    case 'lease.denied':
      return state === 'acquiring' ? 'unowned' : null;
    case 'lease.lost':
      if (state === 'acquiring') return 'unowned';
      return held ? 'lost' : null;
    case 'lease.renewed':
      return held && e.revision > ctx.revision ? state : null;
    case 'lease.tick':
      return held && e.now >= ctx.until - MARGIN ? 'lost' : null;
    case 'lease.drain':
      return state === 'owned' ? 'draining' : null;
    case 'lease.released':
      return state === 'draining' ? 'unowned' : null;
    case 'lease.reset':
      return state === 'lost' ? 'unowned' : null;
  }
}

const moveArb = fc.record({
  kind: fc.constantFrom(...KINDS),
  revision: fc.integer({ min: -1, max: 2 }),
  offset: fc.integer({ min: -2 * MARGIN, max: 2 * MARGIN }),
  advance: fc.nat({ max: 2_000 }),
});

function eventFor(
  kind: Kind,
  ctx: Ctx,
  now: number,
  m: typeof moveArb extends fc.Arbitrary<infer T> ? T : never,
): PartitionLeaseEvent {
  switch (kind) {
    case 'lease.granted':
    case 'lease.renewed':
      return { type: kind, revision: Math.max(1, ctx.revision + m.revision), until: now + 1_000 };
    case 'lease.tick':
      return { type: kind, now: ctx.until - MARGIN + m.offset };
    case 'lease.denied':
      return { type: kind, reason: 'taken' };
    case 'lease.lost':
      return { type: kind, reason: 'gone' };
    default:
      return { type: kind } as PartitionLeaseEvent;
  }
}

describe('partition-lease machine', () => {
  it(
    'should follow the lease rules, never allow work without a live lease, and leave the ' +
      'state unchanged on refused events',
    async (t) => {
      await assertProperty(
        fc.property(fc.array(moveArb, { maxLength: 40 }), (moves) => {
          let snap = initialTransition(partitionLeaseMachine, {
            partition: 0,
            marginMs: MARGIN,
          })[0];
          let now = 1_000_000;
          for (const move of moves) {
            now += move.advance;
            const state = snap.value as PartitionLeaseStateName;
            const event = eventFor(move.kind, snap.context, now, move);
            const next = reference(state, snap.context, event);
            const what = `${state} + ${JSON.stringify(event)}`;
            assert.equal(snap.can(event), next !== null, what);
            const after = transition(partitionLeaseMachine, snap, event)[0];
            if (next === null) {
              assert.deepEqual([after.value, after.context], [snap.value, snap.context], what);
              continue;
            }
            const held = next === 'owned' || next === 'draining';
            if (held && (state === 'owned' || state === 'draining')) {
              assert.ok(
                after.context.revision >= snap.context.revision,
                `revision went back: ${what}`,
              );
            }
            snap = after;
            assert.equal(snap.value, next, what);
            if (!held)
              assert.equal(snap.context.revision, 0, `no revision outside a lease: ${what}`);
            for (const probe of [
              now,
              snap.context.until - MARGIN - 1,
              snap.context.until - MARGIN,
            ]) {
              const usable = leaseUsable(next, snap.context, probe);
              assert.equal(
                usable,
                held && probe < snap.context.until - MARGIN,
                `usable at ${probe}`,
              );
            }
          }
        }),
        budget(t, { ci: 2_000, long: 100_000 }),
      );
    },
  );
});
