import { setup } from 'xstate';

/**
 * Lifecycle of one TaskHubWorker. The worker folds its lifecycle events
 * through the pure `transition()` and asks the snapshot whether a call is
 * allowed (`snapshot.can(event)`), so there are no `started` / `stopping`
 * flags to keep in step.
 *
 * - `idle` -> `starting` on `worker.start`; back to `idle` when starting
 *   failed (start may be tried again), on to `running` when it succeeded.
 * - `running` -> `stopping` on `worker.stop` -> `stopped` (final: a stopped
 *   worker is not started again; make a new one).
 * - `worker.stop` in `idle` goes straight to `stopped`.
 */
export type WorkerStateName = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

export type WorkerEvent =
  | { readonly type: 'worker.start' }
  | { readonly type: 'worker.started' }
  | { readonly type: 'worker.startFailed' }
  | { readonly type: 'worker.stop' }
  | { readonly type: 'worker.stopped' };

export const workerMachine = setup({
  types: { events: {} as WorkerEvent },
}).createMachine({
  id: 'worker',
  initial: 'idle',
  states: {
    idle: {
      on: {
        'worker.start': { target: 'starting' },
        'worker.stop': { target: 'stopped' },
      },
    },
    starting: {
      on: {
        'worker.started': { target: 'running' },
        'worker.startFailed': { target: 'idle' },
      },
    },
    running: {
      on: { 'worker.stop': { target: 'stopping' } },
    },
    stopping: {
      on: { 'worker.stopped': { target: 'stopped' } },
    },
    stopped: { type: 'final' },
  },
});

export type WorkerMachine = typeof workerMachine;
