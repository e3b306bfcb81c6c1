import { setup } from 'xstate';

/**
 * Lock of one work item (orchestration or activity), from the holder's point
 * of view. A work item is `locked` when handed out; the holder's calls move it
 * to `completed`, `abandoned` or `released`; the backend moves it to `lost`
 * when the lock lapses or is taken away.
 *
 * - `release` is accepted in every state (it is always the last call).
 * - `renew`, `complete` and `abandon` need a held lock.
 * - After `complete` the lock is still held until `release`. Only a session
 *   work item (extended session, `session: true`) may renew, complete again or
 *   abandon after a completion; an ordinary one accepts only `release` then.
 * - Calls the machine does not accept leave the state unchanged; backends turn
 *   them into `LOCK_LOST` (see `work-item-lock.ts`).
 */
export type WorkItemStateName = 'locked' | 'completed' | 'abandoned' | 'released' | 'lost';

export type WorkItemCall = 'renew' | 'complete' | 'abandon' | 'release' | 'lose';

export type WorkItemEvent =
  | { readonly type: 'workItem.renew' }
  | { readonly type: 'workItem.complete' }
  | { readonly type: 'workItem.abandon' }
  | { readonly type: 'workItem.release' }
  /** Sent by the backend: the lock lapsed or was taken by someone else. */
  | { readonly type: 'workItem.lose' };

export interface WorkItemContext {
  /** An extended-session work item: several checkpoints under one lock. */
  readonly session: boolean;
}

export const workItemMachine = setup({
  types: {
    context: {} as WorkItemContext,
    events: {} as WorkItemEvent,
    input: {} as { session?: boolean } | undefined,
  },
  guards: {
    isSession: ({ context }) => context.session,
  },
}).createMachine({
  id: 'workItem',
  initial: 'locked',
  context: ({ input }) => ({ session: input?.session ?? false }),
  states: {
    locked: {
      on: {
        'workItem.renew': { target: 'locked' },
        'workItem.complete': { target: 'completed' },
        'workItem.abandon': { target: 'abandoned' },
        'workItem.release': { target: 'released' },
        'workItem.lose': { target: 'lost' },
      },
    },
    completed: {
      on: {
        'workItem.renew': { guard: 'isSession', target: 'completed' },
        'workItem.complete': { guard: 'isSession', target: 'completed' },
        'workItem.abandon': { guard: 'isSession', target: 'abandoned' },
        'workItem.release': { target: 'released' },
        'workItem.lose': { target: 'lost' },
      },
    },
    abandoned: {
      on: {
        'workItem.release': { target: 'released' },
      },
    },
    lost: {
      on: {
        'workItem.release': { target: 'released' },
      },
    },
    released: {
      on: {
        'workItem.release': { target: 'released' },
      },
    },
  },
});

export type WorkItemMachine = typeof workItemMachine;

/** The event a holder's call (or the backend's `lose`) sends to the machine. */
export function workItemEvent(call: WorkItemCall): WorkItemEvent {
  return { type: `workItem.${call}` } as WorkItemEvent;
}
