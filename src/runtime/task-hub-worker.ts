import type { Logger } from 'pino';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import {
  workerMachine,
  type WorkerEvent,
  type WorkerStateName,
} from '../../actors/worker.machine.ts';
import type { Backend } from '../core/backend.ts';
import type { ConnectionState } from '../core/connection-status.ts';
import { DurableTaskError, ErrorCode, isDurableTaskError } from '../core/errors.ts';
import type { OrchestrationService } from '../core/orchestration-service.ts';
import { validateVersion } from '../core/validation.ts';
import * as events from '../logging/runtime-events.ts';
import {
  workerConnectionClosed, workerDisconnected, workerReconnected, workerServiceGone,
} from '../logging/worker-events.ts';
import type { Clock } from '../util/clock.ts';
import { booleanOption, callOptions } from '../util/option-keys.ts';
import type { Activity } from './activity-context.ts';
import { ActivityDispatcher } from './activity-dispatcher.ts';
import type { ActivityMiddleware, OrchestrationMiddleware } from './middleware.ts';
import type { Orchestrator } from './orchestration-context.ts';
import { OrchestrationDispatcher } from './orchestration-dispatcher.ts';
import { Registry } from './registry.ts';
import { joinService, leaveService, type ServiceUser } from './service-users.ts';
import type { VersioningOptions } from './versioning.ts';
import { resolveWorkerOptions, type ResolvedWorkerOptions } from './worker-options.ts';

export interface TaskHubWorkerOptions {
  /** The backend to serve; or give `service` alone. */
  readonly backend?: Pick<Backend, 'service'>;
  readonly service?: OrchestrationService;
  /** @default a silent logger */
  readonly logger?: Logger;
  /** Drives lock renewal and back-off sleeps. @default the system clock */
  readonly clock?: Clock;
  /** Keep live executors between episodes so long orchestrations are not replayed. @default true */
  readonly extendedSessions?: boolean;
  /** Bound of the executor cache (extended sessions). @default 1000 */
  readonly maxCachedExecutors?: number;
  /** @default the service's `maxConcurrentOrchestrationWorkItems` */
  readonly maxConcurrentOrchestrations?: number;
  /** @default the service's `maxConcurrentActivityWorkItems` */
  readonly maxConcurrentActivities?: number;
  /** Fetch loops. @default the service's dispatcher counts */
  readonly orchestrationDispatcherCount?: number;
  readonly activityDispatcherCount?: number;
  readonly orchestrationMiddleware?: readonly OrchestrationMiddleware[];
  readonly activityMiddleware?: readonly ActivityMiddleware[];
  /** Receive timeout of each lock call. @default 30000 */
  readonly receiveTimeoutMs?: number;
  /**
   * How long work for an orchestration or activity that no worker registered
   * keeps being retried (abandoned, the backend delaying redelivery) before it
   * fails with `UNKNOWN_ORCHESTRATION` / `UNKNOWN_ACTIVITY`. Measured from the
   * oldest message of the work item. @default 600000 (10 min)
   */
  readonly unknownTypeRetryMs?: number;
  /** Worker versioning: which orchestration versions this worker runs. @default no check */
  readonly versioning?: VersioningOptions;
  /** Longest graceful drain in `stop()` before in-flight work is aborted. @default 30000 */
  readonly stopTimeoutMs?: number;
}

type Snapshot = SnapshotFrom<typeof workerMachine>;

// TODO: design.md §3 sketches the worker as an actor system (one actor per live instance);
// here the lifecycle is a machine and the dispatchers are plain objects it starts and stops.

/**
 * Hosts orchestrations and activities on a task hub: registers them, then
 * runs one orchestration and one activity dispatcher against the backend's
 * `OrchestrationService`.
 *
 * `start()` provisions (`createIfNotExists`), starts the service, then the
 * dispatchers. A second `start()` while starting or running is an
 * `INVALID_STATE` error; a stopped worker cannot be started again.
 * `stop()` is idempotent; `stop({ forced: true })` aborts in-flight work,
 * also when a graceful stop is already draining. Workers may share one
 * backend: its service runs while any of them does, and a backend that
 * routes work by capability sees the union of what they registered.
 */
export class TaskHubWorker {
  readonly #service: OrchestrationService;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #options: ResolvedWorkerOptions;
  readonly #orchestrations = new Registry<Orchestrator>('orchestration');
  readonly #activities = new Registry<Activity>('activity');
  #snapshot: Snapshot = initialTransition(workerMachine)[0];
  #orchestrationDispatcher: OrchestrationDispatcher | undefined;
  #activityDispatcher: ActivityDispatcher | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #unwatchConnection: (() => void) | undefined;
  readonly #user: ServiceUser = {
    capabilities: () => ({
      orchestrations: this.#orchestrations.names(), activities: this.#activities.names(),
    }),
  };

  /** Checks every option at once: a bad value throws INVALID_ARGUMENT naming it. */
  constructor(options: TaskHubWorkerOptions) {
    this.#options = resolveWorkerOptions(options);
    this.#service = this.#options.service;
    this.#logger = this.#options.logger;
    this.#clock = this.#options.clock;
  }

  /** The worker's lifecycle state. */
  get state(): WorkerStateName {
    return this.#snapshot.value as WorkerStateName;
  }

  /**
   * State of the backend's connection to its server (`reconnecting` during an
   * outage: work pauses and resumes by itself); undefined for a backend without one.
   */
  get connectionState(): ConnectionState | undefined {
    return this.#service.connection?.state;
  }

  /** Registers an orchestrator under a name (and optional version); duplicates are an error. */
  addOrchestration(name: string, fn: Orchestrator<any, any>, options?: { version?: string }): this {
    if (typeof fn !== 'function') {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `Orchestration '${String(name)}' must be a function.`);
    }
    this.#orchestrations.add(name, fn, registrationVersion('addOrchestration', options));
    return this;
  }

  /** Registers an activity under a name (and optional version); duplicates are an error. */
  addActivity(name: string, fn: Activity<any, any>, options?: { version?: string }): this {
    if (typeof fn !== 'function') {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `Activity '${String(name)}' must be a function.`);
    }
    this.#activities.add(name, fn, registrationVersion('addActivity', options));
    return this;
  }

  #send(event: WorkerEvent): void {
    if (!this.#snapshot.can(event)) {
      throw new DurableTaskError(ErrorCode.INVALID_STATE,
        `The worker cannot handle '${event.type}' while ${this.state}.`);
    }
    this.#snapshot = transition(workerMachine, this.#snapshot, event)[0];
  }

  async start(): Promise<void> {
    this.#send({ type: 'worker.start' });
    this.#starting = this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const service = this.#service;
    const o = this.#options;
    try {
      await service.createIfNotExists();
      // Other workers may share this backend: the service runs while any of them does.
      joinService(service, this.#user);
      await service.start();
      const common = {
        service, logger: this.#logger, clock: this.#clock,
        receiveTimeoutMs: o.receiveTimeoutMs,
        unknownTypeRetryMs: o.unknownTypeRetryMs,
      };
      this.#orchestrationDispatcher = new OrchestrationDispatcher({
        ...common,
        registry: this.#orchestrations,
        extendedSessions: o.extendedSessions,
        maxCachedExecutors: o.maxCachedExecutors,
        middleware: o.orchestrationMiddleware,
        versioning: o.versioning,
        maxConcurrent: o.maxConcurrentOrchestrations,
        dispatcherCount: o.orchestrationDispatcherCount,
      });
      this.#activityDispatcher = new ActivityDispatcher({
        ...common,
        registry: this.#activities,
        middleware: o.activityMiddleware,
        maxConcurrent: o.maxConcurrentActivities,
        dispatcherCount: o.activityDispatcherCount,
      });
      this.#orchestrationDispatcher.start();
      this.#activityDispatcher.start();
      this.#watchConnection();
    } catch (err) {
      leaveService(service, this.#user);
      events.workerStartFailed(this.#logger, { err });
      this.#orchestrationDispatcher = undefined;
      this.#activityDispatcher = undefined;
      this.#send({ type: 'worker.startFailed' });
      throw err;
    }
    this.#send({ type: 'worker.started' });
    events.workerStarted(this.#logger, { orchestrations: this.#orchestrations.size,
      activities: this.#activities.size });
  }

  /**
   * Stops the dispatchers (draining in-flight work items, at most
   * `stopTimeoutMs`), then the service. No effect on a worker that never
   * started or already stopped.
   */
  async stop(options?: { forced?: boolean }): Promise<void> {
    const forced = stopForced(options);
    if (this.state === 'starting') await this.#starting?.catch(() => undefined);
    if (this.state === 'idle') {
      this.#send({ type: 'worker.stop' });
      return;
    }
    if (this.state === 'running') {
      this.#send({ type: 'worker.stop' });
      this.#stopping = this.#stop(forced);
    } else if (forced) {
      // Escalate a graceful stop that is still draining.
      await Promise.all([
        this.#orchestrationDispatcher?.stop({ forced: true }),
        this.#activityDispatcher?.stop({ forced: true }),
      ]);
    }
    await this.#stopping;
  }

  async #stop(forced: boolean): Promise<void> {
    const timeoutMs = this.#options.stopTimeoutMs;
    try {
      await Promise.all([
        this.#orchestrationDispatcher?.stop({ forced, timeoutMs }),
        this.#activityDispatcher?.stop({ forced, timeoutMs }),
      ]);
      if (leaveService(this.#service, this.#user)) await this.#stopService(forced);
    } finally {
      this.#unwatchConnection?.();
      this.#send({ type: 'worker.stopped' });
      events.workerStopped(this.#logger, { forced });
    }
  }

  /** Logs the backend connection's changes while the worker runs. */
  #watchConnection(): void {
    this.#unwatchConnection = this.#service.connection?.onChange((state) => {
      if (state === 'reconnecting') workerDisconnected(this.#logger);
      else if (state === 'connected') workerReconnected(this.#logger);
      else workerConnectionClosed(this.#logger);
    });
  }

  /** Stops the service; a backend closed before the worker leaves nothing to stop. */
  async #stopService(forced: boolean): Promise<void> {
    try {
      await this.#service.stop({ forced });
    } catch (err) {
      if (!isDurableTaskError(err, ErrorCode.INVALID_STATE)) throw err;
      workerServiceGone(this.#logger, { err });
    }
  }
}

/** The version of a registration's options: absent or null, or `{ version }`. */
function registrationVersion(call: string, options: unknown): string {
  const o = callOptions<{ version?: unknown }>(call, options as object | undefined, ['version'],
    true);
  return validateVersion(o.version, call.slice(3).toLowerCase());
}

/** The `forced` flag of stop's options (absent or null: a graceful stop). */
function stopForced(options: unknown): boolean {
  const o = callOptions<{ forced?: unknown }>('TaskHubWorker.stop',
    options as object | undefined, ['forced'], true);
  return booleanOption('TaskHubWorker.stop', 'forced', o.forced);
}
