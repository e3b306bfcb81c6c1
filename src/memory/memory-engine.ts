import type { Logger } from 'pino';
import { HubLifecycle } from '../../actors/task-hub-lifecycle.ts';
import type { DeprovisionInput, ProvisionInput, StopInput } from '../../actors/task-hub.machine.ts';
import { WorkItemLockTable } from '../../actors/work-item-lock.ts';
import type { ActivityWorkItem, OrchestrationWorkItem } from '../core/work-item.ts';
import { hubStateChanged, hubStopTimedOut } from '../logging/memory-events.ts';
import type { Clock } from '../util/clock.ts';
import { ActivityLocks } from './activity-locks.ts';
import { DueTimer } from './due-timer.ts';
import type { MemoryFaults, ResolvedMemoryOptions } from './memory-options.ts';
import { MemoryStore } from './memory-store.ts';
import { OrchestrationLocks } from './orchestration-locks.ts';
import { StatusWatch } from './status-watch.ts';
import { WaitList } from './waiters.ts';

/**
 * The shared core of one in-memory backend: the store, the lock managers,
 * the waiters and the task-hub lifecycle. The service and the client are thin
 * facades over it. After every change they call `tick()`, which fires due
 * timers, lets lapsed locks go, hands work to waiting lock calls and arms one
 * clock sleep for the next due time: everything is event-driven.
 */
export class MemoryEngine {
  readonly clock: Clock;
  readonly log: Logger;
  readonly store: MemoryStore;
  readonly orchestrations: OrchestrationLocks;
  readonly activities: ActivityLocks;
  readonly orchestrationWaiters: WaitList<OrchestrationWorkItem>;
  readonly activityWaiters: WaitList<ActivityWorkItem>;
  readonly watch = new StatusWatch();
  readonly lifecycle: HubLifecycle;
  readonly faults: MemoryFaults;
  private readonly due: DueTimer;
  /** Client waits to end (with null) when the hub stops. */
  private readonly stopListeners = new Set<() => void>();
  private readonly drainListeners = new Set<() => void>();

  constructor(readonly opts: ResolvedMemoryOptions) {
    this.clock = opts.clock;
    this.log = opts.logger.child({ hub: opts.hub, backend: 'memory' });
    this.faults = opts.faults;
    this.store = new MemoryStore(this.log, (id) => this.watch.notify(id));
    const table = new WorkItemLockTable();
    this.orchestrations = new OrchestrationLocks(this.store, opts, table, this.log);
    this.activities = new ActivityLocks(this.store, opts, table, this.log);
    this.orchestrationWaiters = new WaitList(this.clock);
    this.activityWaiters = new WaitList(this.clock);
    this.due = new DueTimer(this.clock, () => this.processDue(),
      (err) => this.log.error({ event: 'memory.due.failed', err }, 'processing due work failed'));
    this.lifecycle = new HubLifecycle({
      hub: opts.hub,
      steps: {
        provision: async (input) => this.provision(input),
        startWork: async () => this.due.enable(),
        stopWork: (input, signal) => this.stopWork(input, signal),
        deprovision: async (input) => this.deprovision(input),
      },
      onStateChange: (state, previous) => hubStateChanged(this.log, { state, previous }),
    });
  }

  /**
   * Fires due timers, lets lapsed locks go and serves waiting lock calls.
   * Returns the next time something becomes due (Infinity: nothing).
   */
  processDue(): number {
    const now = this.clock.now();
    this.store.fireDueTimers(now);
    this.orchestrations.expireDue(now);
    this.activities.expireDue(now);
    if (this.lifecycle.isRunning) {
      this.orchestrationWaiters.serve(() => this.orchestrations.tryLock(now));
      this.activityWaiters.serve(() => this.activities.tryLock(now));
    }
    if (this.drainListeners.size > 0 && this.heldLocks === 0) {
      for (const fn of [...this.drainListeners]) fn();
    }
    let next = Math.min(
      this.store.timers[0]?.due ?? Infinity,
      this.orchestrations.nextDeadline(),
      this.activities.nextDeadline(),
    );
    if (this.orchestrationWaiters.size > 0) {
      next = Math.min(next, this.orchestrations.nextReadyAt(now));
    }
    if (this.activityWaiters.size > 0) next = Math.min(next, this.activities.nextReadyAt(now));
    return next;
  }

  /** Processes what is due and arms the wake-up for what comes next. */
  tick(): void {
    this.due.arm(this.processDue());
  }

  get heldLocks(): number {
    return this.orchestrations.heldCount + this.activities.heldCount;
  }

  /** Registers a callback that runs (once) when the hub stops; returns its remover. */
  onStop(fn: () => void): () => void {
    this.stopListeners.add(fn);
    return () => this.stopListeners.delete(fn);
  }

  /** Stops the hub (forced) if it runs and ends the actor. Idempotent. */
  async close(): Promise<void> {
    const state = this.lifecycle.state;
    if (state === 'running' || state === 'starting' || state === 'stopping') {
      await this.lifecycle.stop({ forced: true }).catch(() => undefined);
    }
    this.endWaits();
    this.due.disable();
    this.lifecycle.close();
  }

  private provision(input: ProvisionInput): void {
    if (input.mode === 'create') this.store.clear(input.recreateInstanceStore);
  }

  private deprovision(input: DeprovisionInput): void {
    this.store.clear(input.deleteInstanceStore);
  }

  private endWaits(): void {
    this.orchestrationWaiters.cancelAll();
    this.activityWaiters.cancelAll();
    for (const fn of [...this.stopListeners]) fn();
    this.stopListeners.clear();
  }

  /**
   * Ends pending lock calls and client waits at once; a graceful stop then
   * waits (at most `drainTimeoutMs`) for held locks to be released. Locks
   * still held afterwards, or at once when forced, are taken away: their
   * batches become deliverable again and late calls by holders get LOCK_LOST.
   */
  private async stopWork(input: StopInput, signal: AbortSignal): Promise<void> {
    this.endWaits();
    if (!input.forced && this.heldLocks > 0) {
      const drained = await this.waitDrained(this.opts.drainTimeoutMs, signal);
      if (!drained && !signal.aborted) {
        hubStopTimedOut(this.log, {
          heldLocks: this.heldLocks, drainTimeoutMs: this.opts.drainTimeoutMs,
        });
      }
    }
    if (signal.aborted) return; // a forced stop took over
    this.orchestrations.loseAll();
    this.activities.loseAll();
    this.due.disable();
  }

  private waitDrained(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const sleep = new AbortController();
      let done = false;
      const finish = (drained: boolean): void => {
        if (done) return;
        done = true;
        this.drainListeners.delete(onDrained);
        signal.removeEventListener('abort', onAbort);
        sleep.abort();
        resolve(drained);
      };
      const onDrained = (): void => finish(true);
      const onAbort = (): void => finish(false);
      this.drainListeners.add(onDrained);
      signal.addEventListener('abort', onAbort, { once: true });
      this.clock.sleep(timeoutMs, sleep.signal).then(() => finish(false), () => undefined);
    });
  }
}
