import type { Logger } from 'pino';
import type { WorkItemLockTable } from '../../actors/work-item-lock.ts';
import type { WorkItemCall } from '../../actors/work-item.machine.ts';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { OrchestrationRuntimeState } from '../core/runtime-state.ts';
import type { OrchestrationWorkItem } from '../core/work-item.ts';
import {
  orchestrationAbandoned,
  orchestrationLocked,
  orchestrationLockLapsed,
} from '../logging/memory-events.ts';
import type {
  InstanceRecord,
  MemoryStore,
  OrchestrationLock,
  OrchestrationLockToken,
} from './memory-store.ts';
import { abandonDelayMs, type ResolvedMemoryOptions } from './memory-options.ts';
import type { PoisonRule } from './poison.ts';
import { readyAt } from './readiness.ts';

/**
 * Orchestration locks: one per instance, fenced by a token that is unique per
 * lock. The token carries the work-item machine, which rejects calls the
 * holder may no longer make; the store's current lock must still be that
 * token and must not have lapsed.
 */
export class OrchestrationLocks {
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

  /** Locks held by work items that `owner` handed out. */
  heldBy(owner: object): number {
    let n = 0;
    for (const rec of this.store.lockedInstances) if (rec.lock?.token.owner === owner) n++;
    return n;
  }

  /**
   * Locks the ready instance whose oldest pending message is oldest; null when
   * none is ready. Also reports the earliest time a waiting one gets ready.
   */
  tryLock(now: number, owner: object): OrchestrationWorkItem | null {
    let best: InstanceRecord | undefined;
    let bestSeq = Infinity;
    const defer = this.othersWaiting(owner);
    for (const rec of this.store.candidates) {
      if (rec.lock) continue;
      // What this backend abandoned goes to another waiting backend first.
      if (defer && rec.abandonedBy === owner) continue;
      // Pruning only drops messages, so a head that is not older than the best
      // one found so far cannot win: skip the work for it.
      const first = rec.queue[0];
      if (first !== undefined && first.seq >= bestSeq) continue;
      this.store.prune(rec);
      if (readyAt(rec, now) !== 0) continue;
      const head = rec.queue[0]!.seq;
      if (head < bestSeq) {
        best = rec;
        bestSeq = head;
      }
    }
    return best ? this.lock(best, now, owner) : null;
  }

  /** Earliest future time an unlocked candidate becomes ready (Infinity: none). */
  nextReadyAt(now: number): number {
    let next = Infinity;
    for (const rec of this.store.candidates) {
      const at = readyAt(rec, now);
      if (at > now && at < next) next = at;
    }
    return next;
  }

  /** Earliest lock deadline (Infinity: no lock held). */
  nextDeadline(): number {
    let next = Infinity;
    for (const rec of this.store.lockedInstances) {
      if (rec.lock && rec.lock.until < next) next = rec.lock.until;
    }
    return next;
  }

  private lock(rec: InstanceRecord, now: number, owner: object): OrchestrationWorkItem {
    const batch = rec.queue.slice(0, this.opts.maxBatchMessages);
    const exec = rec.current;
    const token: OrchestrationLockToken = {
      kind: 'orchestration',
      owner,
      instanceId: rec.instanceId,
      generation: this.store.nextGeneration(),
      lock: this.table.open(`the work item of instance '${rec.instanceId}'`),
    };
    this.issued.add(token);
    const until = now + this.opts.orchestrationLockMs;
    rec.lock = {
      token,
      until,
      seqs: new Set(batch.map((q) => q.seq)),
      headSeq: batch[0]!.seq,
      executionId: exec.executionId,
    };
    this.store.lockedInstances.add(rec);
    const customStatus = exec.state.customStatus ?? undefined;
    const runtimeState = new OrchestrationRuntimeState(exec.history, customStatus);
    const lockedUntil = new Date(until);
    orchestrationLocked(this.log, {
      instanceId: rec.instanceId, executionId: exec.executionId, messages: batch.length,
      lockedUntil: lockedUntil.toISOString(),
    });
    return {
      instanceId: rec.instanceId,
      newMessages: batch.map((q) => q.message),
      orchestrationRuntimeState: runtimeState,
      lockedUntil,
      // TODO: no backend sessions (contract 2.13, optional): one episode per lock.
      isExtendedSession: false,
      lockToken: token,
    };
  }

  /** The token of a work item this backend issued; INVALID_ARGUMENT otherwise. */
  tokenOf(item: OrchestrationWorkItem, owner: object): OrchestrationLockToken {
    const token = (item as { lockToken?: unknown } | null)?.lockToken;
    if (typeof token !== 'object' || token === null || !this.issued.has(token) ||
      (token as OrchestrationLockToken).owner !== owner) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        'The orchestration work item was not issued by this backend.');
    }
    return token as OrchestrationLockToken;
  }

  /**
   * Proves that the caller still holds the lock for `call`; throws LOCK_LOST
   * when the machine rejects the call, or when the lock lapsed or was taken.
   */
  fence(item: OrchestrationWorkItem, call: WorkItemCall, now: number, owner: object):
  { rec: InstanceRecord; lock: OrchestrationLock } {
    const token = this.tokenOf(item, owner);
    token.lock.check(call);
    const rec = this.store.instances.get(token.instanceId);
    const lock = rec?.lock;
    if (!rec || !lock || lock.token !== token) {
      token.lock.tryApply('lose');
      throw new DurableTaskError(ErrorCode.LOCK_LOST,
        `Cannot ${call} the work item of instance '${token.instanceId}': its lock lapsed or ` +
        'was taken away (instance replaced, purged or the hub stopped).');
    }
    if (lock.until <= now) {
      this.lapse(rec, now);
      throw new DurableTaskError(ErrorCode.LOCK_LOST,
        `Cannot ${call} the work item of instance '${token.instanceId}': its lock lapsed at ` +
        `${new Date(lock.until).toISOString()}.`);
    }
    return { rec, lock };
  }

  renew(item: OrchestrationWorkItem, now: number, owner: object): void {
    const { lock } = this.fence(item, 'renew', now, owner);
    lock.until = now + this.opts.orchestrationLockMs;
    lock.token.lock.apply('renew');
    item.lockedUntil = new Date(lock.until);
  }

  /**
   * Returns the batch (it never left the queue's head) with a growing delay on
   * repeats. A `failure` counts toward the poison limit; `not-handled` does not.
   */
  abandon(item: OrchestrationWorkItem, now: number, owner: object, failure: boolean): void {
    const { rec, lock } = this.fence(item, 'abandon', now, owner);
    lock.token.lock.apply('abandon');
    if (failure) this.poison.orchestrationFailed(rec, lock.seqs);
    rec.abandonedBy = owner;
    if (rec.abandonHeadSeq === lock.headSeq) rec.abandonCount++;
    else {
      rec.abandonHeadSeq = lock.headSeq;
      rec.abandonCount = 1;
    }
    const delayMs = abandonDelayMs(rec.abandonCount, this.opts.abandonBackoffMs,
      this.opts.maxAbandonBackoffMs);
    rec.notBefore = now + delayMs;
    this.unlock(rec);
    if (this.poison.isPoisoned(rec)) this.poison.poisonInstance(rec, now);
    orchestrationAbandoned(this.log, {
      instanceId: rec.instanceId, abandons: rec.abandonCount, delayMs,
    });
  }

  /**
   * Ends the holder's use of the work item. A batch neither completed nor
   * abandoned goes back as it was. Idempotent; a lost lock is a no-op.
   */
  release(item: OrchestrationWorkItem, owner: object): void {
    const token = this.tokenOf(item, owner);
    token.lock.apply('release');
    const rec = this.store.instances.get(token.instanceId);
    if (rec?.lock?.token === token) this.unlock(rec);
  }

  /** Marks a completed checkpoint on the machine (the lock stays held until release). */
  markCompleted(lock: OrchestrationLock): void {
    lock.token.lock.apply('complete');
  }

  /** Lets every lock whose deadline passed lapse. */
  expireDue(now: number): void {
    for (const rec of [...this.store.lockedInstances]) {
      if (rec.lock && rec.lock.until <= now) this.lapse(rec, now);
    }
  }

  /** Takes away every lock that `owner` handed out (its hub view stopped). */
  loseAll(owner: object): void {
    for (const rec of [...this.store.lockedInstances]) {
      if (rec.lock?.token.owner === owner) this.store.loseOrchestrationLock(rec);
    }
  }

  private lapse(rec: InstanceRecord, now: number): void {
    const lock = rec.lock;
    if (!lock) return;
    const failed = lock.token.lock.state === 'locked';
    if (failed) {
      orchestrationLockLapsed(this.log, { instanceId: rec.instanceId, messages: lock.seqs.size });
      this.poison.orchestrationFailed(rec, lock.seqs);
    }
    this.store.loseOrchestrationLock(rec);
    if (failed && this.poison.isPoisoned(rec)) this.poison.poisonInstance(rec, now);
  }

  private unlock(rec: InstanceRecord): void {
    rec.lock = null;
    this.store.lockedInstances.delete(rec);
    if (rec.queue.length > 0) this.store.candidates.add(rec);
  }
}
