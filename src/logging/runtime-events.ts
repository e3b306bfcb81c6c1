import type { Logger } from 'pino';

/**
 * Log events of the runtime (executor, dispatchers, worker, client). One
 * function per event; the `event` field is stable and searchable.
 */

interface InstanceFields {
  readonly instanceId: string;
  readonly executionId?: string | undefined;
}

export function resultForUnknownTask(
  log: Logger, f: InstanceFields & { eventType: string; taskId: number },
): void {
  log.debug({ event: 'runtime.result_ignored', ...f },
    'result for an unknown or already finished task ignored');
}

export function nonDeterminismDetected(log: Logger, f: InstanceFields & { err: unknown }): void {
  log.warn({ event: 'runtime.non_determinism', ...f }, 'replay diverged from history; failing');
}

export function failureBeatsContinueAsNew(log: Logger, f: InstanceFields): void {
  log.warn({ event: 'runtime.failure_over_continue_as_new', ...f },
    'orchestrator failed after requesting continue-as-new; the failure wins');
}

export function finallyFailed(log: Logger, f: InstanceFields & { err: unknown }): void {
  log.warn({ event: 'runtime.finally_failed', ...f },
    'a finally block of an ended orchestrator threw; the error is dropped');
}

export function continueAsNewLoopCapped(log: Logger, f: InstanceFields & { loops: number }): void {
  log.info({ event: 'runtime.continue_as_new_capped', ...f },
    'too many continue-as-new in one episode; the next execution runs in a new episode');
}

export function batchDiscarded(log: Logger, f: InstanceFields & { reason: string }): void {
  log.warn({ event: 'runtime.batch_discarded', ...f }, 'work item batch discarded');
}

export function messageSkipped(
  log: Logger, f: InstanceFields & { eventType: string; reason: string },
): void {
  log.debug({ event: 'runtime.message_skipped', ...f }, 'message skipped in reconciliation');
}

export function episodeSplit(log: Logger,
  f: InstanceFields & { applied: number; total: number }): void {
  log.debug({ event: 'runtime.episode_split', ...f },
    'message limit reached; remaining decisions follow in the next episode');
}

export function episodeCompleted(
  log: Logger, f: InstanceFields & { status: string; decisions: number },
): void {
  log.trace({ event: 'runtime.episode_completed', ...f }, 'episode checkpointed');
}

export function workItemAbandoned(
  log: Logger, f: { kind: string; workItem: string; reason: string; err?: unknown },
): void {
  log.warn({ event: 'runtime.work_item_abandoned', ...f }, 'work item abandoned');
}

export function unknownOrchestration(
  log: Logger, f: InstanceFields & { name: string; version: string; waitedMs: number },
): void {
  log.warn({ event: 'runtime.unknown_orchestration', ...f },
    'no orchestration registered under this name');
}

export function unknownActivity(
  log: Logger, f: InstanceFields & { name: string; version: string; waitedMs: number },
): void {
  log.warn({ event: 'runtime.unknown_activity', ...f }, 'no activity registered under this name');
}

export function lockRenewalFailed(log: Logger,
  f: { kind: string; workItem: string; err: unknown }): void {
  log.warn({ event: 'runtime.lock_renewal_failed', ...f }, 'lock renewal failed');
}

export function releaseFailed(log: Logger, f: { workItem: string; err: unknown }): void {
  log.warn({ event: 'runtime.release_failed', ...f }, 'releasing a work item failed');
}

export function processingFailed(log: Logger,
  f: { kind: string; workItem: string; err: unknown }): void {
  log.error({ event: 'runtime.processing_failed', ...f }, 'processing a work item failed');
}

export function fetchFailed(log: Logger,
  f: { dispatcher: string; err: unknown; delayMs: number }): void {
  log.warn({ event: 'runtime.fetch_failed', ...f }, 'fetching a work item failed');
}

export function dispatcherLoopFailed(log: Logger, f: { dispatcher: string; err: unknown }): void {
  log.error({ event: 'runtime.dispatcher_loop_failed', ...f },
    'dispatcher loop failed; backing off and continuing');
}

export function dispatcherThrottled(log: Logger,
  f: { dispatcher: string; maxConcurrent: number }): void {
  log.info({ event: 'runtime.dispatcher_throttled', ...f },
    'all work-item slots busy; waiting for one to free');
}

export function dispatcherStarted(log: Logger, f: { dispatcher: string; loops: number;
  maxConcurrent: number }): void {
  log.debug({ event: 'runtime.dispatcher_started', ...f }, 'dispatcher started');
}

export function dispatcherStopped(log: Logger, f: { dispatcher: string; forced: boolean;
  abandonedInFlight: number }): void {
  log.info({ event: 'runtime.dispatcher_stopped', ...f }, 'dispatcher stopped');
}

export function workerStarted(log: Logger,
  f: { orchestrations: number; activities: number }): void {
  log.info({ event: 'runtime.worker_started', ...f }, 'task hub worker started');
}

export function workerStopped(log: Logger, f: { forced: boolean }): void {
  log.info({ event: 'runtime.worker_stopped', ...f }, 'task hub worker stopped');
}

export function workerStartFailed(log: Logger, f: { err: unknown }): void {
  log.error({ event: 'runtime.worker_start_failed', ...f }, 'task hub worker failed to start');
}
