import type { ExecutionStartedEvent } from '../core/history-event.ts';
import { isTerminalStatus } from '../core/orchestration-status.ts';
import type { CachedInstance } from './instance-cache.ts';
import type { InstanceStore } from './instance-store.ts';
import { isWrongLastSequence } from './nats-errors.ts';
import type { InstanceRecord } from './wire.ts';

/** The Pending record of a new execution, written before its start is sent or run. */
export function pendingRecord(e: ExecutionStartedEvent, now: number): InstanceRecord {
  const at = new Date(now).toISOString();
  return {
    orchestrationInstance: { ...e.orchestrationInstance },
    ...(e.parentInstance ? { parentInstance: e.parentInstance } : {}),
    name: e.name,
    version: e.version,
    orchestrationStatus: 'Pending',
    customStatus: null,
    ...(e.input !== undefined ? { input: e.input } : {}),
    ...(e.tags ? { tags: e.tags } : {}),
    createdTime: at,
    lastUpdatedTime: at,
    completedTime: null,
    scheduledStartTime: e.scheduledStartTime ?? null,
    ...(e.generation !== undefined ? { generation: e.generation } : {}),
    commitSeq: 0,
  };
}

/**
 * A parent re-creating a finished sub-orchestration under the same id
 * (contract 3.9, a retried child): before the new execution runs, the
 * instance's latest record moves to it (Pending), and the finished one keeps
 * its own per-execution record, as a replacing create by a client does. No
 * effect when the record already names the execution or is not finished; a
 * record changed meanwhile (compare-and-set lost) is left as it is.
 */
export async function recreateFinishedRecord(store: InstanceStore, token: string,
  entry: CachedInstance, start: ExecutionStartedEvent, now: number): Promise<void> {
  const known = entry.record;
  const rec = known?.value;
  if (!known || !rec || !isTerminalStatus(rec.orchestrationStatus)) return;
  if (rec.orchestrationInstance.executionId === start.orchestrationInstance.executionId) return;
  await store.writeExecution(token, rec);
  const next = pendingRecord(start, now);
  try {
    entry.record = { value: next, revision: await store.update(token, next, known.revision) };
  } catch (err) {
    if (!isWrongLastSequence(err)) throw err;
    entry.record = undefined;
  }
}
