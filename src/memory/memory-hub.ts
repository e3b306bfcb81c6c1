import type { Logger } from 'pino';
import { WorkItemLockTable } from '../../actors/work-item-lock.ts';
import type { Clock } from '../util/clock.ts';
import { ActivityLocks } from './activity-locks.ts';
import type { ResolvedMemoryOptions } from './memory-options.ts';
import { MemoryStore } from './memory-store.ts';
import { OrchestrationLocks } from './orchestration-locks.ts';
import { PoisonRule } from './poison.ts';
import { StatusWatch } from './status-watch.ts';

/** What the hub needs from each backend (process view) attached to it. */
export interface HubNode {
  /** True while the node's hub machine is running (it may be handed work). */
  readonly isRunning: boolean;
  /** Hands ready work to the node's waiting lock calls. */
  serve(now: number): void;
  /** Whether lock calls of the node wait for orchestration / activity work. */
  readonly waitsForOrchestrations: boolean;
  readonly waitsForActivities: boolean;
  /** Called after every pass (graceful stops watch their held locks). */
  afterPass(): void;
  /** Makes sure the node wakes up at `at` or earlier. */
  arm(at: number): void;
}

/**
 * The state of one in-memory task hub, shared by every backend created on it
 * (`createMemoryBackend({ shareStoreWith })`), the way several processes share
 * one NATS server: the store, the lock managers and the status watch. Each
 * backend keeps its own lifecycle, waiters and wake-up timer (`MemoryEngine`).
 */
export class MemoryHub {
  readonly clock: Clock;
  readonly log: Logger;
  readonly store: MemoryStore;
  readonly orchestrations: OrchestrationLocks;
  readonly activities: ActivityLocks;
  /** Delivery limit and dead letters (hub-wide). */
  readonly poison: PoisonRule;
  readonly watch = new StatusWatch();
  private readonly nodes = new Set<HubNode>();
  private turn = 0;

  constructor(readonly opts: ResolvedMemoryOptions) {
    this.clock = opts.clock;
    this.log = opts.logger.child({ hub: opts.hub, backend: 'memory' });
    this.store = new MemoryStore(this.log, (id) => this.watch.notify(id));
    const table = new WorkItemLockTable();
    this.poison = new PoisonRule(this.store, opts.maxDeliveries, this.log);
    this.orchestrations = new OrchestrationLocks(this.store, opts, table, this.log, this.poison,
      (owner) => this.othersWaiting(owner, 'orchestrations'));
    this.activities = new ActivityLocks(this.store, opts, table, this.log, this.poison,
      (owner) => this.othersWaiting(owner, 'activities'));
  }

  /** True when a running node other than `owner` has lock calls waiting for that work. */
  private othersWaiting(owner: object, work: 'orchestrations' | 'activities'): boolean {
    for (const node of this.nodes) {
      if (node === owner || !node.isRunning) continue;
      if (work === 'orchestrations' ? node.waitsForOrchestrations : node.waitsForActivities) {
        return true;
      }
    }
    return false;
  }

  attach(node: HubNode): void {
    this.nodes.add(node);
  }

  detach(node: HubNode): void {
    this.nodes.delete(node);
  }

  /**
   * Fires due timers, lets lapsed locks go and hands ready work to waiting
   * lock calls of every running node. Returns the next time something becomes
   * due (Infinity: nothing).
   */
  processDue(): number {
    const now = this.clock.now();
    this.store.fireDueTimers(now);
    this.orchestrations.expireDue(now);
    this.activities.expireDue(now);
    let orchestrationWaiters = false;
    let activityWaiters = false;
    // Start with a different node each pass, so no backend starves the others.
    const nodes = [...this.nodes];
    const first = nodes.length > 0 ? this.turn++ % nodes.length : 0;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[(first + i) % nodes.length]!;
      if (node.isRunning) node.serve(now);
      orchestrationWaiters ||= node.waitsForOrchestrations;
      activityWaiters ||= node.waitsForActivities;
    }
    for (const node of this.nodes) node.afterPass();
    let next = Math.min(
      this.store.timers[0]?.due ?? Infinity,
      this.orchestrations.nextDeadline(),
      this.activities.nextDeadline(),
    );
    if (orchestrationWaiters) next = Math.min(next, this.orchestrations.nextReadyAt(now));
    if (activityWaiters) next = Math.min(next, this.activities.nextReadyAt(now));
    return next;
  }

  /** Processes what is due and arms every node's wake-up for what comes next. */
  tick(): void {
    const next = this.processDue();
    for (const node of this.nodes) node.arm(next);
  }
}
