import type { InstanceRecord } from './memory-store.ts';
import { isStartOf } from './memory-store.ts';

/**
 * When a pruned, unlocked instance can be handed out: `0` now, a time in the
 * future (abandon back-off, scheduled start), or `Infinity` when only a new
 * message can change that (empty queue; a Pending execution whose start is
 * not queued).
 */
export function readyAt(rec: InstanceRecord, now: number): number {
  if (rec.lock || rec.queue.length === 0) return Infinity;
  let at = rec.notBefore > now ? rec.notBefore : 0;
  const exec = rec.current;
  if (exec.state.orchestrationStatus === 'Pending') {
    // After pruning, the current execution's start is first when it is queued.
    const head = rec.queue[0]!;
    if (!isStartOf(head.message, exec.executionId)) return Infinity;
    const start = startTime(head.message.event);
    if (start > now) at = Math.max(at, start);
  }
  return at;
}

function startTime(event: { type: string; scheduledStartTime?: string }): number {
  if (event.type !== 'ExecutionStarted' || !event.scheduledStartTime) return 0;
  const t = Date.parse(event.scheduledStartTime);
  return Number.isNaN(t) ? 0 : t;
}
