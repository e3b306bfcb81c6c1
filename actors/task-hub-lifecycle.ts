import { createActor, fromPromise, type Actor, type SnapshotFrom } from 'xstate';
import { DurableTaskError, ErrorCode, isDurableTaskError } from '../src/core/errors.ts';
import { booleanOption, callOptions } from '../src/util/option-keys.ts';
import {
  HUB_BUSY_STATES,
  taskHubMachine,
  type DeprovisionInput,
  type HubEvent,
  type HubStateName,
  type ProvisionInput,
  type StartInput,
  type StopInput,
} from './task-hub.machine.ts';

/** A resource step: resolves when done; `signal` fires when the step is cancelled. */
export type HubStep<I> = (input: I, signal: AbortSignal) => Promise<void>;

/** The resource work a backend supplies to the task-hub machine. Missing steps do nothing. */
export interface HubSteps {
  provision?: HubStep<ProvisionInput>;
  startWork?: HubStep<StartInput>;
  stopWork?: HubStep<StopInput>;
  deprovision?: HubStep<DeprovisionInput>;
}

export interface HubLifecycleOptions {
  readonly hub: string;
  readonly steps: HubSteps;
  /** Called after every state change (for logs); must not throw. */
  readonly onStateChange?: (state: HubStateName, previous: HubStateName) => void;
}

type HubSnapshot = SnapshotFrom<typeof taskHubMachine>;

/** States in which the hub's resources exist (client calls work). */
const PROVISIONED: ReadonlySet<HubStateName> = new Set([
  'created', 'starting', 'running', 'stopping', 'stopped',
]);

/**
 * Drives one task-hub actor for a backend. Each lifecycle call checks with the
 * machine that it is allowed now (else it fails at once with
 * `INVALID_HUB_STATE`), sends its event and waits until the machine leaves the
 * busy states: the call resolves when the state it aims for is reached and
 * rejects when the hub failed or another call moved it elsewhere.
 */
export class HubLifecycle {
  readonly hub: string;
  private readonly actor: Actor<typeof taskHubMachine>;
  private closed = false;

  constructor(options: HubLifecycleOptions) {
    this.hub = options.hub;
    const step = <I>(fn: HubStep<I> | undefined) =>
      fromPromise<void, I>(async ({ input, signal }) => {
        if (fn) await fn(input, signal);
      });
    const machine = taskHubMachine.provide({
      actors: {
        provision: step(options.steps.provision),
        startWork: step(options.steps.startWork),
        stopWork: step(options.steps.stopWork),
        deprovision: step(options.steps.deprovision),
      },
    });
    this.actor = createActor(machine, { input: { hub: options.hub } });
    const onChange = options.onStateChange;
    if (onChange) {
      let previous = this.state;
      this.actor.subscribe((snapshot) => {
        const next = snapshot.value as HubStateName;
        if (next === previous) return;
        const before = previous;
        previous = next;
        onChange(next, before);
      });
    }
    this.actor.start();
  }

  /** The machine's current state. */
  get state(): HubStateName {
    return this.actor.getSnapshot().value as HubStateName;
  }

  /** Error of the last failed step (state `failed`, or a drain that failed). */
  get lastError(): unknown {
    return this.actor.getSnapshot().context.error;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** Destructive (re)provisioning. Allowed when absent, created, stopped or failed. */
  async create(given?: { recreateInstanceStore?: boolean }): Promise<void> {
    const options = callOptions('create', given, ['recreateInstanceStore'], true);
    return this.run('create', {
      type: 'hub.create',
      recreateInstanceStore: options.recreateInstanceStore === undefined ||
        booleanOption('create', 'recreateInstanceStore', options.recreateInstanceStore),
    }, ['created']);
  }

  /** Idempotent provisioning: a no-op when the hub is already created, running or stopped. */
  createIfNotExists(): Promise<void> {
    return this.run('createIfNotExists', { type: 'hub.createIfNotExists' },
      ['created', 'running', 'stopped']);
  }

  /** Starts background work. A no-op when running; fails before create. */
  start(): Promise<void> {
    return this.run('start', { type: 'hub.start' }, ['running']);
  }

  /**
   * Stops background work: graceful drain, or `forced` (in-flight work is
   * aborted; a forced stop during a graceful one escalates it). A no-op when
   * nothing runs.
   */
  async stop(given?: { forced?: boolean }): Promise<void> {
    const options = callOptions('stop', given, ['forced'], true);
    return this.run('stop', { type: 'hub.stop',
      forced: booleanOption('stop', 'forced', options.forced) },
      ['stopped', 'created', 'absent', 'failed']);
  }

  /** Removes the hub's resources. Not allowed while it runs: stop it first. */
  async delete(given?: { deleteInstanceStore?: boolean }): Promise<void> {
    const options = callOptions('delete', given, ['deleteInstanceStore'], true);
    return this.run('delete', {
      type: 'hub.delete',
      deleteInstanceStore: options.deleteInstanceStore === undefined ||
        booleanOption('delete', 'deleteInstanceStore', options.deleteInstanceStore),
    }, ['absent']);
  }

  /** Throws `HUB_NOT_RUNNING` naming the current state unless the hub runs. */
  assertRunning(operation: string): void {
    this.assertOpen(operation);
    const state = this.state;
    if (state !== 'running') {
      throw new DurableTaskError(ErrorCode.HUB_NOT_RUNNING,
        `Cannot ${operation}: task hub '${this.hub}' is ${state}, not running` +
        (state === 'created' || state === 'stopped' ? ' (call start() first).' : '.'));
    }
  }

  /** Throws `INVALID_HUB_STATE` unless the hub's resources exist (created, running, stopped...). */
  assertProvisioned(operation: string): void {
    this.assertOpen(operation);
    const state = this.state;
    if (!PROVISIONED.has(state)) {
      throw new DurableTaskError(ErrorCode.INVALID_HUB_STATE,
        `Cannot ${operation}: task hub '${this.hub}' is ${state}` +
        (state === 'absent' ? ' (call createIfNotExists() first).' : '.'));
    }
  }

  /** Stops the actor; later calls fail with `INVALID_STATE`. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.actor.stop();
  }

  private assertOpen(operation: string): void {
    if (this.closed) {
      throw new DurableTaskError(ErrorCode.INVALID_STATE,
        `Cannot ${operation}: the backend of task hub '${this.hub}' is closed.`);
    }
  }

  private run(operation: string, event: HubEvent, goals: readonly HubStateName[]): Promise<void> {
    try {
      this.assertOpen(operation);
    } catch (err) {
      return Promise.reject(err);
    }
    const before = this.actor.getSnapshot();
    if (!before.can(event)) {
      return Promise.reject(new DurableTaskError(ErrorCode.INVALID_HUB_STATE,
        `Cannot ${operation} task hub '${this.hub}' while it is ${String(before.value)}` +
        hint(operation, before.value as HubStateName)));
    }
    this.actor.send(event);
    return this.settle(operation, goals);
  }

  /** Resolves when the hub reaches a goal state; rejects when it settles anywhere else. */
  private settle(operation: string, goals: readonly HubStateName[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const check = (snapshot: HubSnapshot): boolean => {
        if (done) return true;
        const state = snapshot.value as HubStateName;
        if (HUB_BUSY_STATES.has(state) && snapshot.status === 'active') return false;
        done = true;
        if (goals.includes(state)) resolve();
        else reject(this.settleError(operation, state, snapshot));
        return true;
      };
      if (check(this.actor.getSnapshot())) return;
      const sub = this.actor.subscribe({
        next: (snapshot) => {
          if (check(snapshot)) sub.unsubscribe();
        },
        complete: () => {
          if (!done) {
            done = true;
            reject(new DurableTaskError(ErrorCode.INVALID_STATE,
              `Cannot ${operation}: the backend of task hub '${this.hub}' was closed meanwhile.`));
          }
          sub.unsubscribe();
        },
      });
    });
  }

  private settleError(operation: string, state: HubStateName, snapshot: HubSnapshot): Error {
    if (this.closed) {
      return new DurableTaskError(ErrorCode.INVALID_STATE,
        `Cannot ${operation}: the backend of task hub '${this.hub}' was closed meanwhile.`);
    }
    if (state === 'failed') {
      const cause = snapshot.context.error;
      if (isDurableTaskError(cause)) return cause;
      return new DurableTaskError(ErrorCode.BACKEND_ERROR,
        `Could not ${operation} task hub '${this.hub}': ${messageOf(cause)}`, { cause });
    }
    return new DurableTaskError(ErrorCode.INVALID_HUB_STATE,
      `Could not ${operation} task hub '${this.hub}': ` +
      `another call moved it to ${state} meanwhile.`);
  }
}

function hint(operation: string, state: HubStateName): string {
  if (operation === 'start' && (state === 'absent' || state === 'failed')) {
    return ' (call create() or createIfNotExists() first).';
  }
  if ((operation === 'delete' || operation === 'create') && state === 'running') {
    return ' (stop it first).';
  }
  return '.';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
