import { assign, fromPromise, setup } from 'xstate';

/**
 * Lifecycle of a task hub as seen by one process. The backend's lifecycle
 * methods send `hub.*` events and wait for the state that ends the call; the
 * resource work is done by four promise actors that each backend supplies with
 * `.provide({ actors })`, so the memory and NATS backends share this machine.
 *
 * Idempotent calls (accepted, no work): `createIfNotExists` when the hub is
 * created, running or stopped; `start` when running; `stop` when nothing runs;
 * `delete` never skips (resources may exist from another process).
 * A call made while the same kind of work is in progress joins it.
 * Everything else not listed in a state is rejected by the machine.
 */
export type HubStateName =
  | 'absent' | 'creating' | 'created' | 'starting' | 'running' | 'stopping' | 'stopped'
  | 'deleting' | 'failed';

export type HubEvent =
  | { readonly type: 'hub.create'; readonly recreateInstanceStore: boolean }
  | { readonly type: 'hub.createIfNotExists' }
  | { readonly type: 'hub.start' }
  | { readonly type: 'hub.stop'; readonly forced: boolean }
  | { readonly type: 'hub.delete'; readonly deleteInstanceStore: boolean };

export interface HubContext {
  readonly hub: string;
  /** What the current or last provisioning does. */
  readonly provisionMode: 'create' | 'createIfNotExists';
  readonly recreateInstanceStore: boolean;
  readonly deleteInstanceStore: boolean;
  /** True when the current stop does not wait for in-flight work. */
  readonly forced: boolean;
  /** The error of the last failed resource step (the hub is `failed`), or of a failed drain. */
  readonly error: unknown;
}

export interface ProvisionInput {
  readonly hub: string;
  readonly mode: 'create' | 'createIfNotExists';
  readonly recreateInstanceStore: boolean;
}
export interface StartInput { readonly hub: string }
export interface StopInput { readonly hub: string; readonly forced: boolean }
export interface DeprovisionInput { readonly hub: string; readonly deleteInstanceStore: boolean }

/** States in which a resource step runs; lifecycle calls wait for them to end. */
export const HUB_BUSY_STATES: ReadonlySet<HubStateName> = new Set([
  'creating', 'starting', 'stopping', 'deleting',
]);

export const taskHubMachine = setup({
  types: {
    context: {} as HubContext,
    events: {} as HubEvent,
    input: {} as { hub: string },
  },
  actors: {
    // Defaults do nothing; backends replace them with `.provide({ actors })`.
    provision: fromPromise<void, ProvisionInput>(async () => undefined),
    startWork: fromPromise<void, StartInput>(async () => undefined),
    stopWork: fromPromise<void, StopInput>(async () => undefined),
    deprovision: fromPromise<void, DeprovisionInput>(async () => undefined),
  },
  guards: {
    escalatesToForced: ({ context, event }) =>
      event.type === 'hub.stop' && event.forced && !context.forced,
  },
  actions: {
    setCreate: assign({
      provisionMode: 'create' as const,
      recreateInstanceStore: ({ event }) =>
        event.type === 'hub.create' ? event.recreateInstanceStore : true,
      error: undefined,
    }),
    setCreateIfNotExists: assign({
      provisionMode: 'createIfNotExists' as const,
      recreateInstanceStore: false,
      error: undefined,
    }),
    setStop: assign({
      forced: ({ event }) => event.type === 'hub.stop' && event.forced,
    }),
    setForced: assign({ forced: true }),
    setDelete: assign({
      deleteInstanceStore: ({ event }) =>
        event.type === 'hub.delete' ? event.deleteInstanceStore : true,
      error: undefined,
    }),
    clearError: assign({ error: undefined }),
    recordError: assign({ error: ({ event }) => (event as { error?: unknown }).error }),
  },
}).createMachine({
  id: 'taskHub',
  initial: 'absent',
  context: ({ input }) => ({
    hub: input.hub,
    provisionMode: 'createIfNotExists',
    recreateInstanceStore: false,
    deleteInstanceStore: true,
    forced: false,
    error: undefined,
  }),
  states: {
    absent: {
      on: {
        'hub.create': { target: 'creating', actions: 'setCreate' },
        'hub.createIfNotExists': { target: 'creating', actions: 'setCreateIfNotExists' },
        'hub.stop': { target: 'absent' },
        'hub.delete': { target: 'deleting', actions: 'setDelete' },
      },
    },
    creating: {
      invoke: {
        id: 'provision',
        src: 'provision',
        input: ({ context }) => ({
          hub: context.hub,
          mode: context.provisionMode,
          recreateInstanceStore: context.recreateInstanceStore,
        }),
        onDone: { target: 'created' },
        onError: { target: 'failed', actions: 'recordError' },
      },
      on: {
        // Joins the provisioning in progress.
        'hub.createIfNotExists': { target: 'creating' },
      },
    },
    created: {
      on: {
        'hub.create': { target: 'creating', actions: 'setCreate' },
        'hub.createIfNotExists': { target: 'created' },
        'hub.start': { target: 'starting' },
        'hub.stop': { target: 'created' },
        'hub.delete': { target: 'deleting', actions: 'setDelete' },
      },
    },
    starting: {
      invoke: {
        id: 'startWork',
        src: 'startWork',
        input: ({ context }) => ({ hub: context.hub }),
        onDone: { target: 'running' },
        onError: { target: 'failed', actions: 'recordError' },
      },
      on: {
        'hub.start': { target: 'starting' },
        'hub.createIfNotExists': { target: 'starting' },
        // Stopping a hub that is starting cancels the start (its signal aborts).
        'hub.stop': { target: 'stopping', actions: 'setStop' },
      },
    },
    running: {
      entry: 'clearError',
      on: {
        'hub.start': { target: 'running' },
        'hub.createIfNotExists': { target: 'running' },
        'hub.stop': { target: 'stopping', actions: 'setStop' },
      },
    },
    stopping: {
      invoke: {
        id: 'stopWork',
        src: 'stopWork',
        input: ({ context }) => ({ hub: context.hub, forced: context.forced }),
        onDone: { target: 'stopped' },
        // A failed drain still ends in `stopped`: the hub must not stay half-running.
        onError: { target: 'stopped', actions: 'recordError' },
      },
      on: {
        'hub.stop': [
          // A forced stop during a graceful drain aborts the drain and forces.
          { guard: 'escalatesToForced', target: 'stopping', reenter: true, actions: 'setForced' },
          { target: 'stopping' },
        ],
        'hub.createIfNotExists': { target: 'stopping' },
      },
    },
    stopped: {
      on: {
        'hub.create': { target: 'creating', actions: 'setCreate' },
        'hub.createIfNotExists': { target: 'stopped' },
        'hub.start': { target: 'starting' },
        'hub.stop': { target: 'stopped' },
        'hub.delete': { target: 'deleting', actions: 'setDelete' },
      },
    },
    deleting: {
      invoke: {
        id: 'deprovision',
        src: 'deprovision',
        input: ({ context }) => ({
          hub: context.hub,
          deleteInstanceStore: context.deleteInstanceStore,
        }),
        onDone: { target: 'absent' },
        onError: { target: 'failed', actions: 'recordError' },
      },
      on: {
        'hub.delete': { target: 'deleting' },
      },
    },
    failed: {
      on: {
        'hub.create': { target: 'creating', actions: 'setCreate' },
        'hub.createIfNotExists': { target: 'creating', actions: 'setCreateIfNotExists' },
        'hub.stop': { target: 'failed' },
        'hub.delete': { target: 'deleting', actions: 'setDelete' },
      },
    },
  },
});

export type TaskHubMachine = typeof taskHubMachine;
