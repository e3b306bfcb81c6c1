import { isTerminalStatus, type OrchestrationStatus } from '../core/orchestration-status.ts';
import type { TaskMessage } from '../core/task-message.ts';

/** What the batch builder needs to know about one held message. */
export interface BatchCandidate {
  readonly seq: number;
  readonly message: TaskMessage;
  /** Estimated size in bytes. */
  readonly bytes: number;
}

/** The instance as the lock sees it: stored history and the client's record. */
export interface InstanceView {
  /** Current execution in the commit log; null for an instance with no history. */
  readonly current: { readonly executionId: string; readonly live: boolean } | null;
  /** Latest instance record; null when there is none. */
  readonly record: { readonly executionId: string; readonly status: OrchestrationStatus } | null;
  /** Orchestration-stream sequences the last commit already applied. */
  readonly applied: ReadonlySet<number>;
}

export interface BatchPlan<M extends BatchCandidate> {
  /** The work item's messages, in order (a new execution's start first). */
  readonly batch: M[];
  readonly drop: { readonly item: M; readonly reason: string }[];
  /** Messages that stay held for a later work item, in order. */
  readonly keep: M[];
  /** The batch starts a new execution: hand out an empty runtime state. */
  readonly newExecution: boolean;
  /** Messages are held for an announced execution whose start has not arrived. */
  readonly waitingForStart: boolean;
}

/**
 * Decides, from the held messages of one instance in stream order, which form
 * the next work item, which are discarded (contract 1.1: unknown or finished
 * instance, stale execution, duplicate or stale start, already applied) and
 * which stay held. One work item serves one execution: a new execution's
 * start ends a batch of the current one and begins the next, and messages
 * held while the start was awaited follow it.
 */
export function planBatch<M extends BatchCandidate>(
  held: readonly M[],
  view: InstanceView,
  caps: { readonly maxMessages: number; readonly maxBytes: number },
): BatchPlan<M> {
  const batch: M[] = [];
  const drop: { item: M; reason: string }[] = [];
  const keep: M[] = [];
  const waiting: M[] = [];
  const { current, record } = view;
  const announced = record && record.status === 'Pending' &&
    (current === null || current.executionId !== record.executionId) ? record.executionId : null;
  let target: string | null = current?.live ? current.executionId : null;
  let newExecution = false;
  let bytes = 0;
  let full = false;

  for (let i = 0; i < held.length; i++) {
    const item = held[i] as M;
    if (full) {
      keep.push(item);
      continue;
    }
    if (view.applied.has(item.seq)) {
      drop.push({ item, reason: 'already applied by the last checkpoint' });
      continue;
    }
    const e = item.message.event;
    const exec = item.message.orchestrationInstance.executionId;
    if (e.type === 'ExecutionStarted') {
      const startExec = e.orchestrationInstance.executionId;
      // A start an instance sends to its own id never re-creates it (as on memory).
      const parent = e.parentInstance?.orchestrationInstance.instanceId;
      const reason = startRejection(startExec, parent !== undefined, view,
        parent !== undefined && parent !== e.orchestrationInstance.instanceId);
      if (reason) {
        drop.push({ item, reason });
        continue;
      }
      if (batch.length > 0) {
        // The current execution's batch ends here; the start begins the next one.
        keep.push(...waiting, ...held.slice(i));
        full = true;
        waiting.length = 0;
        break;
      }
      batch.push(item, ...waiting);
      bytes += item.bytes + waiting.reduce((n, w) => n + w.bytes, 0);
      waiting.length = 0;
      target = startExec;
      newExecution = true;
      continue;
    }
    if (target !== null && (exec === undefined || exec === target)) {
      if (batch.length >= caps.maxMessages || (batch.length > 0 && bytes + item.bytes >
        caps.maxBytes)) {
        keep.push(item);
        full = true;
        continue;
      }
      batch.push(item);
      bytes += item.bytes;
      continue;
    }
    if (!newExecution && announced !== null && (exec === undefined || exec === announced)) {
      waiting.push(item);
      continue;
    }
    drop.push({ item, reason: dropReason(exec, target, current) });
  }
  keep.push(...waiting);
  keep.sort((a, b) => a.seq - b.seq);
  return { batch, drop, keep, newExecution, waitingForStart: waiting.length > 0 && !newExecution };
}

function startRejection(startExec: string, isChild: boolean, view: InstanceView,
  mayRecreate: boolean): string | null {
  const { current, record } = view;
  if (current?.executionId === startExec) return 'duplicate start of the current execution';
  if (record) {
    // A parent may re-create a finished child under the same id (a retried child, contract
    // 3.9): its start replaces the finished execution.
    if (record.executionId !== startExec && !(mayRecreate && isTerminalStatus(record.status) &&
      !current?.live)) {
      return `stale start: the instance record names execution ${record.executionId}`;
    }
    if (record.executionId !== startExec) return null;
    if (record.status !== 'Pending') {
      return `start of an execution that is ${record.status}, not Pending`;
    }
    return null;
  }
  if (current?.live) {
    return isChild ? 'the sub-orchestration instance already runs' : 'the instance already runs';
  }
  return null;
}

function dropReason(
  exec: string | undefined,
  target: string | null,
  current: InstanceView['current'],
): string {
  if (current === null && target === null) return 'unknown instance (no history and no start)';
  if (exec !== undefined && exec !== (target ?? current?.executionId)) {
    return `stale execution ${exec}`;
  }
  return 'the instance has finished';
}
