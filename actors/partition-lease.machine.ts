import { assign, setup } from 'xstate';

/**
 * Ownership of one partition by one worker (NATS backend). The worker drives
 * it with `lease.*` events after each key-value operation on the lease key:
 *
 * - `unowned` --acquire--> `acquiring` --granted--> `owned` (or --denied--> back);
 * - `owned` --renewed--> `owned` (new revision and deadline);
 * - `owned` --drain--> `draining` (hand the partition back after in-flight
 *   work finishes; the lease is still renewed) --released--> `unowned`;
 * - `owned` / `draining` --lost (renew failed, key taken) or a `tick` past the
 *   deadline less the safety margin--> `lost`: work on the partition stops at once;
 * - `lost` --reset (work stopped)--> `unowned`.
 *
 * Events not listed for a state are rejected and change nothing.
 */
export type PartitionLeaseStateName = 'unowned' | 'acquiring' | 'owned' | 'draining' | 'lost';

export type PartitionLeaseEvent =
  | { readonly type: 'lease.acquire' }
  | { readonly type: 'lease.granted'; readonly revision: number; readonly until: number }
  | { readonly type: 'lease.denied'; readonly reason?: string }
  | { readonly type: 'lease.renewed'; readonly revision: number; readonly until: number }
  | { readonly type: 'lease.lost'; readonly reason: string }
  /** Periodic clock reading; moves to `lost` when the deadline (less the margin) has passed. */
  | { readonly type: 'lease.tick'; readonly now: number }
  | { readonly type: 'lease.drain' }
  | { readonly type: 'lease.released' }
  | { readonly type: 'lease.reset' };

export interface PartitionLeaseContext {
  readonly partition: number;
  /** Stop work this long before the lease deadline (clock skew and renew latency). */
  readonly marginMs: number;
  /** Revision of the lease key this worker last wrote; 0 when not owned. */
  readonly revision: number;
  /** Lease deadline (ms since epoch); 0 when not owned. */
  readonly until: number;
  /** Why the lease was last lost or denied. */
  readonly reason: string | undefined;
}

export const partitionLeaseMachine = setup({
  types: {
    context: {} as PartitionLeaseContext,
    events: {} as PartitionLeaseEvent,
    input: {} as { partition: number; marginMs?: number },
  },
  guards: {
    lapsed: ({ context, event }) =>
      event.type === 'lease.tick' && event.now >= context.until - context.marginMs,
    newer: ({ context, event }) =>
      (event.type === 'lease.renewed' || event.type === 'lease.granted') &&
      event.revision > context.revision,
  },
  actions: {
    hold: assign({
      revision: ({ event }) =>
        event.type === 'lease.granted' || event.type === 'lease.renewed' ? event.revision : 0,
      until: ({ event }) =>
        event.type === 'lease.granted' || event.type === 'lease.renewed' ? event.until : 0,
      reason: undefined,
    }),
    drop: assign({
      revision: 0,
      until: 0,
      reason: ({ event }) => {
        if (event.type === 'lease.lost') return event.reason;
        if (event.type === 'lease.denied') return event.reason;
        if (event.type === 'lease.tick') return 'the lease deadline passed without a renewal';
        return undefined;
      },
    }),
  },
}).createMachine({
  id: 'partitionLease',
  initial: 'unowned',
  context: ({ input }) => ({
    partition: input.partition,
    marginMs: input.marginMs ?? 0,
    revision: 0,
    until: 0,
    reason: undefined,
  }),
  states: {
    unowned: {
      on: {
        'lease.acquire': { target: 'acquiring' },
      },
    },
    acquiring: {
      on: {
        'lease.granted': { target: 'owned', actions: 'hold' },
        'lease.denied': { target: 'unowned', actions: 'drop' },
        'lease.lost': { target: 'unowned', actions: 'drop' },
      },
    },
    owned: {
      on: {
        // A renewal must carry a newer revision; an older one is a stale reply.
        'lease.renewed': { guard: 'newer', target: 'owned', actions: 'hold' },
        'lease.tick': { guard: 'lapsed', target: 'lost', actions: 'drop' },
        'lease.lost': { target: 'lost', actions: 'drop' },
        'lease.drain': { target: 'draining' },
      },
    },
    draining: {
      on: {
        'lease.renewed': { guard: 'newer', target: 'draining', actions: 'hold' },
        'lease.tick': { guard: 'lapsed', target: 'lost', actions: 'drop' },
        'lease.lost': { target: 'lost', actions: 'drop' },
        'lease.released': { target: 'unowned', actions: 'drop' },
      },
    },
    lost: {
      on: {
        'lease.reset': { target: 'unowned' },
      },
    },
  },
});

export type PartitionLeaseMachine = typeof partitionLeaseMachine;

/** True when work on the partition may go on: owned or draining, and not past the deadline. */
export function leaseUsable(
  state: PartitionLeaseStateName,
  context: PartitionLeaseContext,
  now: number,
): boolean {
  return (state === 'owned' || state === 'draining') && now < context.until - context.marginMs;
}
