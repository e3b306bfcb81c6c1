import type { Logger } from 'pino';
import type { WorkItemLockTable } from '../../actors/work-item-lock.ts';
import type { WorkItemCall } from '../../actors/work-item.machine.ts';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { TaskMessage } from '../core/task-message.ts';
import type { ActivityWorkItem } from '../core/work-item.ts';
import { activityCompletionIgnored, activityLockLapsed } from '../logging/memory-events.ts';
import type { ActivityEntry, ActivityLockToken, MemoryStore } from './memory-store.ts';
import { abandonDelayMs, type ResolvedMemoryOptions } from './memory-options.ts';
import type { PoisonRule } from './poison.ts';

/**
 * Activity leases: one holder per activity message, fenced by a per-lease
 * token that carries the work-item machine. Completing removes the message
 * and delivers the result to its owner in one step.
 */
export class ActivityLocks {
  private readonly issued = new WeakSet<object>();

  constructor(
    private readonly store: MemoryStore,
    private readonly opts: ResolvedMemoryOptions,
    private readonly table: WorkItemLockTable,
    private readonly log: Logger,
    private readonly poison: PoisonRule,
    /** True when another running backend waits for work (it gets `owner`'s abandons first). */
    private readonly othersWaiting: (owner: object) => boolean,
  ) {}

  heldBy(owner: object): number {
    let n = 0;
    for (const entry of this.store.lockedActivities) if (entry.lock?.token.owner === owner) n++;
    return n;
  }

  /** Leases the oldest deliverable activity message; null when none. */
  tryLock(now: number, owner: object): ActivityWorkItem | null {
    const defer = this.othersWaiting(owner);
    for (const entry of this.store.activities.values()) {
      if (entry.lock || entry.notBefore > now) continue;
      if (defer && entry.abandonedBy === owner) continue;
      return this.lock(entry, now, owner);
    }
    return null;
  }

  /** Earliest future time a delayed activity becomes deliverable (Infinity: none). */
  nextReadyAt(now: number): number {
    let next = Infinity;
    for (const entry of this.store.activities.values()) {
      if (!entry.lock && entry.notBefore > now && entry.notBefore < next) next = entry.notBefore;
    }
    return next;
  }

  nextDeadline(): number {
    let next = Infinity;
    for (const entry of this.store.lockedActivities) {
      if (entry.lock && entry.lock.until < next) next = entry.lock.until;
    }
    return next;
  }

  private lock(entry: ActivityEntry, now: number, owner: object): ActivityWorkItem {
    entry.deliveryCount++;
    const token: ActivityLockToken = {
      kind: 'activity',
      owner,
      seq: entry.seq,
      generation: this.store.nextGeneration(),
      lock: this.table.open(`activity work item ${entry.id}`),
    };
    this.issued.add(token);
    const until = now + this.opts.activityLockMs;
    entry.lock = { token, until };
    this.store.lockedActivities.add(entry);
    return {
      id: entry.id,
      taskMessage: entry.message,
      lockedUntil: new Date(until),
      deliveryCount: entry.deliveryCount,
      lockToken: token,
    };
  }

  tokenOf(item: ActivityWorkItem, owner: object): ActivityLockToken {
    const token = (item as { lockToken?: unknown } | null)?.lockToken;
    if (typeof token !== 'object' || token === null || !this.issued.has(token) ||
      (token as ActivityLockToken).owner !== owner) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        'The activity work item was not issued by this backend.');
    }
    return token as ActivityLockToken;
  }

  /** Proves the caller still holds the lease for `call`; LOCK_LOST otherwise. */
  fence(item: ActivityWorkItem, call: WorkItemCall, now: number, owner: object): ActivityEntry {
    const token = this.tokenOf(item, owner);
    token.lock.check(call);
    const entry = this.store.activities.get(token.seq);
    if (!entry?.lock || entry.lock.token !== token) {
      token.lock.tryApply('lose');
      throw new DurableTaskError(ErrorCode.LOCK_LOST,
        `Cannot ${call} activity work item ${item.id}: its lock lapsed or was taken away.`);
    }
    const until = entry.lock.until;
    if (until <= now) {
      this.lapse(entry, now);
      throw new DurableTaskError(ErrorCode.LOCK_LOST,
        `Cannot ${call} activity work item ${item.id}: its lock lapsed at ` +
        `${new Date(until).toISOString()}.`);
    }
    return entry;
  }

  renew(item: ActivityWorkItem, now: number, owner: object): ActivityWorkItem {
    const entry = this.fence(item, 'renew', now, owner);
    const lock = entry.lock!;
    lock.until = now + this.opts.activityLockMs;
    lock.token.lock.apply('renew');
    item.lockedUntil = new Date(lock.until);
    return item;
  }

  /** Makes it deliverable again; a `failure` counts toward the poison limit. */
  abandon(item: ActivityWorkItem, now: number, owner: object, failure: boolean): void {
    const entry = this.fence(item, 'abandon', now, owner);
    entry.lock!.token.lock.apply('abandon');
    if (failure) this.poison.activityFailed(entry);
    entry.abandonedBy = owner;
    entry.abandonCount++;
    entry.notBefore = now + abandonDelayMs(entry.abandonCount, this.opts.abandonBackoffMs,
      this.opts.maxAbandonBackoffMs);
    entry.lock = null;
    this.store.lockedActivities.delete(entry);
    if (entry.failures >= this.opts.maxDeliveries) this.poison.poisonActivity(entry, now);
  }

  /**
   * True when this work item already completed (a repeated call is ignored);
   * otherwise checks the response so a bad one changes nothing.
   */
  isRepeat(item: ActivityWorkItem, owner: object): boolean {
    const token = this.tokenOf(item, owner);
    if (token.lock.state !== 'completed') return false;
    activityCompletionIgnored(this.log, {
      id: item.id, instanceId: item.taskMessage.orchestrationInstance.instanceId,
      reason: 'this work item was already completed',
    });
    return true;
  }

  /** Removes the message and delivers the response to its owner (one step). */
  complete(entry: ActivityEntry, response: TaskMessage): void {
    const owner = entry.message.orchestrationInstance;
    const scheduled = entry.message.event;
    entry.lock!.token.lock.apply('complete');
    this.store.lockedActivities.delete(entry);
    entry.lock = null;
    this.store.activities.delete(entry.seq);
    const rec = this.store.instances.get(owner.instanceId);
    const key = `${owner.executionId ?? ''}:${scheduled.eventId}`;
    if (rec?.deliveredResults.has(key)) {
      activityCompletionIgnored(this.log, {
        id: entry.id, instanceId: owner.instanceId,
        reason: `a result for task ${scheduled.eventId} was already delivered`,
      });
      return;
    }
    rec?.deliveredResults.add(key);
    const executionId = response.orchestrationInstance.executionId ?? owner.executionId;
    this.store.route({
      ...response,
      orchestrationInstance: {
        instanceId: owner.instanceId,
        ...(executionId !== undefined ? { executionId } : {}),
      },
    });
  }

  expireDue(now: number): void {
    for (const entry of [...this.store.lockedActivities]) {
      if (entry.lock && entry.lock.until <= now) this.lapse(entry, now);
    }
  }

  loseAll(owner: object): void {
    for (const entry of [...this.store.lockedActivities]) {
      if (entry.lock?.token.owner === owner) this.store.loseActivityLock(entry);
    }
  }

  private lapse(entry: ActivityEntry, now: number): void {
    this.poison.activityFailed(entry);
    activityLockLapsed(this.log, {
      id: entry.id,
      instanceId: entry.message.orchestrationInstance.instanceId,
      deliveryCount: entry.deliveryCount,
    });
    this.store.loseActivityLock(entry);
    if (entry.failures >= this.opts.maxDeliveries) this.poison.poisonActivity(entry, now);
  }
}

/** Checks an activity response: a TaskCompleted or TaskFailed for the scheduled task's owner. */
export function checkActivityResponse(item: ActivityWorkItem, response: TaskMessage): void {
  const owner = item.taskMessage.orchestrationInstance;
  const ev = (response as TaskMessage | null)?.event;
  if (!ev || (ev.type !== 'TaskCompleted' && ev.type !== 'TaskFailed')) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `An activity response must be TaskCompleted or TaskFailed, got ${String(ev?.type)}.`);
  }
  if (response.orchestrationInstance?.instanceId !== owner.instanceId) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `The activity response must go to the owner '${owner.instanceId}', not ` +
      `'${String(response.orchestrationInstance?.instanceId)}'.`);
  }
  const target = response.orchestrationInstance.executionId;
  if (target !== undefined && target !== owner.executionId) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `The activity response names execution '${target}', but the task belongs to ` +
      `execution '${String(owner.executionId)}'.`);
  }
  const scheduledId = item.taskMessage.event.eventId;
  if (ev.taskScheduledId !== scheduledId) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `The activity response names task ${ev.taskScheduledId}, but the work item is task ` +
      `${scheduledId}.`);
  }
}
