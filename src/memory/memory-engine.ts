import type { Logger } from 'pino';
import { HubLifecycle } from '../../actors/task-hub-lifecycle.ts';
import type { DeprovisionInput, ProvisionInput, StopInput } from '../../actors/task-hub.machine.ts';
import type { ActivityWorkItem, OrchestrationWorkItem } from '../core/work-item.ts';
import { hubStateChanged, hubStopTimedOut } from '../logging/memory-events.ts';
import type { Clock } from '../util/clock.ts';
import type { ActivityLocks } from './activity-locks.ts';
import { DueTimer } from './due-timer.ts';
import type { HubNode, MemoryHub } from './memory-hub.ts';
import type { MemoryFaults, ResolvedMemoryOptions } from './memory-options.ts';
import type { MemoryStore } from './memory-store.ts';
import type { OrchestrationLocks } from './orchestration-locks.ts';
import type { StatusWatch } from './status-watch.ts';
import { WaitList } from './waiters.ts';

/**
 * One backend's view of an in-memory hub, like one process connected to a
 * server: its own task-hub lifecycle, waiting lock calls, wake-up timer and
 * fault hooks, over the hub state it shares with other backends. The service
 * and the client are thin facades over it. After every change they call
 * `tick()`: due timers fire, lapsed locks go, waiting lock calls get work and
 * one clock sleep is armed for the next due time. Nothing polls.
 */
export class MemoryEngine implements HubNode {
  readonly log: Logger;
  readonly orchestrationWaiters: WaitList<OrchestrationWorkItem>;
  readonly activityWaiters: WaitList<ActivityWorkItem>;
  readonly lifecycle: HubLifecycle;
  readonly faults: MemoryFaults;
  private readonly due: DueTimer;
  /** Client waits to end (with null) when this backend's hub view stops. */
  private readonly stopListeners = new Set<() => void>();
  private readonly drainListeners = new Set<() => void>();

  constructor(readonly hub: MemoryHub, readonly opts: ResolvedMemoryOptions) {
    this.log = opts.logger.child({ hub: opts.hub, backend: 'memory' });
    this.faults = opts.faults;
    this.orchestrationWaiters = new WaitList(hub.clock);
    this.activityWaiters = new WaitList(hub.clock);
    this.due = new DueTimer(hub.clock, () => hub.processDue(),
      (err) => this.log.error({ event: 'memory.due.failed', err }, 'processing due work failed'));
    this.lifecycle = new HubLifecycle({
      hub: opts.hub,
      steps: {
        provision: async (input) => this.provision(input),
        startWork: async () => {
          this.due.enable();
          this.hub.tick();
        },
        stopWork: (input, signal) => this.stopWork(input, signal),
        deprovision: async (input) => this.deprovision(input),
      },
      onStateChange: (state, previous) => hubStateChanged(this.log, { state, previous }),
    });
    hub.attach(this);
  }

  get clock(): Clock {
    return this.hub.clock;
  }

  get store(): MemoryStore {
    return this.hub.store;
  }

  get orchestrations(): OrchestrationLocks {
    return this.hub.orchestrations;
  }

  get activities(): ActivityLocks {
    return this.hub.activities;
  }

  get watch(): StatusWatch {
    return this.hub.watch;
  }

  /** Fires due timers, lets lapsed locks go and serves waiting lock calls (all backends). */
  processDue(): number {
    return this.hub.processDue();
  }

  /** `processDue` plus arming the wake-ups of every backend on the hub. */
  tick(): void {
    this.hub.tick();
  }

  // ---- HubNode

  get isRunning(): boolean {
    return this.lifecycle.isRunning;
  }

  get waitsForOrchestrations(): boolean {
    return this.orchestrationWaiters.size > 0;
  }

  get waitsForActivities(): boolean {
    return this.activityWaiters.size > 0;
  }

  serve(now: number): void {
    this.orchestrationWaiters.serve(() => this.hub.orchestrations.tryLock(now, this));
    this.activityWaiters.serve(() => this.hub.activities.tryLock(now, this));
  }

  afterPass(): void {
    if (this.drainListeners.size > 0 && this.heldLocks === 0) {
      for (const fn of [...this.drainListeners]) fn();
    }
  }

  arm(at: number): void {
    this.due.arm(at);
  }

  // ----

  /** Locks held by work items this backend handed out. */
  get heldLocks(): number {
    return this.hub.orchestrations.heldBy(this) + this.hub.activities.heldBy(this);
  }

  /** Registers a callback that runs (once) when this backend's hub view stops. */
  onStop(fn: () => void): () => void {
    this.stopListeners.add(fn);
    return () => this.stopListeners.delete(fn);
  }

  /** Stops (forced) if running, ends the actor and leaves the hub. Idempotent. */
  async close(): Promise<void> {
    const state = this.lifecycle.state;
    if (state === 'running' || state === 'starting' || state === 'stopping') {
      await this.lifecycle.stop({ forced: true }).catch(() => undefined);
    }
    this.endWaits();
    this.due.disable();
    this.lifecycle.close();
    this.hub.detach(this);
  }

  private provision(input: ProvisionInput): void {
    if (input.mode !== 'create') return;
    this.hub.store.clear(input.recreateInstanceStore);
    this.hub.poison.clear();
  }

  private deprovision(input: DeprovisionInput): void {
    this.hub.store.clear(input.deleteInstanceStore);
    this.hub.poison.clear();
  }

  private endWaits(): void {
    this.orchestrationWaiters.cancelAll();
    this.activityWaiters.cancelAll();
    for (const fn of [...this.stopListeners]) fn();
    this.stopListeners.clear();
  }

  /**
   * Ends pending lock calls and client waits at once; a graceful stop then
   * waits (at most `drainTimeoutMs`) for this backend's held locks to be
   * released. Locks it still holds afterwards, or at once when forced, are
   * taken away: their batches become deliverable again (to other backends
   * too) and late calls by their holders get LOCK_LOST.
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
    this.hub.orchestrations.loseAll(this);
    this.hub.activities.loseAll(this);
    this.due.disable();
    this.hub.tick();
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
