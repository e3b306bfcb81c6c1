import type { Logger } from 'pino';
import { failExecution } from '../core/backend-endings.ts';
import {
  describeMessage, poisonFailure, poisonReason, type DeadLetter, type DeadLetterQuery,
} from '../core/dead-letter.ts';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { newEvent } from '../core/history-event.ts';
import { taskMessage } from '../core/task-message.ts';
import { deadLettered } from '../logging/memory-events.ts';
import type { ActivityEntry, InstanceRecord, MemoryStore } from './memory-store.ts';

const DEFAULT_LIST_LIMIT = 100;

/**
 * The poison rule of the memory backend: a message whose work items failed
 * `maxDeliveries` times (abandoned as a failure, or their lock lapsed) is
 * dead-lettered (kept in a list) and removed from its queue, and the
 * instance that waited on it is told: an orchestration message fails the
 * instance (its parent hears of it), an activity answers its orchestration
 * with a TaskFailed. Abandons marked `not-handled` do not count.
 */
export class PoisonRule {
  private readonly letters: DeadLetter[] = [];

  constructor(
    private readonly store: MemoryStore,
    private readonly maxDeliveries: number,
    private readonly log: Logger,
  ) {}

  /** Counts a failed work item of `rec` holding the messages `seqs`. */
  orchestrationFailed(rec: InstanceRecord, seqs: ReadonlySet<number>): void {
    for (const q of rec.queue) {
      if (!seqs.has(q.seq)) continue;
      q.failures++;
      if (q.failures > rec.maxFailures) rec.maxFailures = q.failures;
    }
  }

  activityFailed(entry: ActivityEntry): void {
    entry.failures++;
  }

  /** True when some queued message of the (unlocked, pruned) instance is past the limit. */
  isPoisoned(rec: InstanceRecord): boolean {
    return rec.maxFailures >= this.maxDeliveries && !rec.lock;
  }

  /**
   * Dead-letters the instance's messages past the limit and fails its live
   * execution with a failure naming them; other queued messages of a failed
   * instance are pruned as for any finished instance.
   */
  poisonInstance(rec: InstanceRecord, now: number): void {
    const poisoned = rec.queue.filter((q) => q.failures >= this.maxDeliveries);
    rec.queue = rec.queue.filter((q) => q.failures < this.maxDeliveries);
    rec.maxFailures = 0;
    for (const q of rec.queue) if (q.failures > rec.maxFailures) rec.maxFailures = q.failures;
    rec.abandonCount = 0;
    rec.abandonHeadSeq = -1;
    rec.abandonedBy = null;
    rec.notBefore = 0;
    if (poisoned.length === 0) return;
    const first = poisoned[0]!;
    for (const q of poisoned) this.record('orchestration', q.message, q.failures, now);
    const failure = poisonFailure(describeMessage(first.message), first.failures,
      this.maxDeliveries);
    const exec = rec.current;
    const ended = failExecution(exec.history, poisoned.map((q) => q.message), failure, now);
    if (ended) {
      exec.history.push(...ended.runtimeState.newEvents);
      exec.state = { ...ended.state, createdTime: exec.state.createdTime };
      this.store.dropTimers(rec.instanceId, exec.executionId);
      for (const m of ended.orchestratorMessages) this.store.route(m);
      this.store.onStatusChange(rec.instanceId);
    }
    this.store.prune(rec);
  }

  /** Dead-letters an activity past the limit and answers its orchestration with a TaskFailed. */
  poisonActivity(entry: ActivityEntry, now: number): void {
    this.store.activities.delete(entry.seq);
    this.record('activity', entry.message, entry.failures, now);
    const owner = entry.message.orchestrationInstance;
    const rec = this.store.instances.get(owner.instanceId);
    const key = `${owner.executionId ?? ''}:${entry.message.event.eventId}`;
    if (rec?.deliveredResults.has(key)) return;
    rec?.deliveredResults.add(key);
    const failureDetails = poisonFailure(describeMessage(entry.message), entry.failures,
      this.maxDeliveries);
    this.store.route(taskMessage(newEvent({
      type: 'TaskFailed', taskScheduledId: entry.message.event.eventId,
      reason: failureDetails.errorMessage, failureDetails,
    }, now), owner));
  }

  list(query: DeadLetterQuery = {}): DeadLetter[] {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `The dead-letter limit must be a positive integer, got ${String(query.limit)}.`);
    }
    const matching = query.instanceId === undefined ? this.letters
      : this.letters.filter((d) => d.instanceId === query.instanceId);
    return matching.slice(0, limit);
  }

  /** Forgets the dead letters of a purged instance (every trace goes). */
  forget(instanceId: string): void {
    for (let i = this.letters.length - 1; i >= 0; i--) {
      if (this.letters[i]!.instanceId === instanceId) this.letters.splice(i, 1);
    }
  }

  clear(): void {
    this.letters.length = 0;
  }

  private record(kind: DeadLetter['kind'], message: DeadLetter['message'], deliveries: number,
    now: number): void {
    const { instanceId, executionId } = message.orchestrationInstance;
    const reason = poisonReason(deliveries, this.maxDeliveries);
    this.letters.push({
      kind, instanceId, ...(executionId !== undefined ? { executionId } : {}),
      eventType: message.event.type, deliveries, reason, deadLetteredAt: new Date(now), message,
    });
    deadLettered(this.log, { kind, instanceId, eventType: message.event.type, deliveries, reason });
  }
}
