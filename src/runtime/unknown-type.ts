import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { failureFromError, type FailureDetails } from '../core/failure-details.ts';
import type { HistoryEvent } from '../core/history-event.ts';

/** Default of how long work for an unregistered orchestration or activity is retried. */
export const DEFAULT_UNKNOWN_TYPE_RETRY_MS = 10 * 60_000;

/**
 * Epoch ms since which the batch's work has been waiting: the oldest
 * message event (a scheduled start counts from its start time). The
 * episode's own OrchestratorStarted marker is not a message and is skipped.
 */
export function waitingSince(newEvents: readonly HistoryEvent[], fallback: number): number {
  let since = Infinity;
  for (const e of newEvents) {
    if (e.type === 'OrchestratorStarted') continue;
    let t = Date.parse(e.timestamp);
    if (e.type === 'ExecutionStarted' && e.scheduledStartTime) {
      t = Math.max(t, Date.parse(e.scheduledStartTime));
    }
    if (t < since) since = t;
  }
  return Number.isFinite(since) ? since : fallback;
}

/** Failure details of work given up because its type was never registered. */
export function unknownTypeFailure(kind: 'orchestration' | 'activity', name: string,
  version: string, waitedMs: number): FailureDetails {
  const code = kind === 'orchestration'
    ? ErrorCode.UNKNOWN_ORCHESTRATION
    : ErrorCode.UNKNOWN_ACTIVITY;
  const err = new DurableTaskError(code,
    `No ${kind} named '${name}'${version ? ` (version '${version}')` : ''} was registered on any ` +
    `worker that received it; gave up after ${Math.round(waitedMs / 1000)} s of retries.`,
    { nonRetriable: true });
  const { stackTrace: _stack, ...details } = failureFromError(err);
  return { ...details, isNonRetriable: true };
}

/** The id a completion decision takes when no orchestrator ran: after every recorded decision. */
export function nextActionId(events: readonly HistoryEvent[]): number {
  let next = 0;
  for (const e of events) {
    if (e.type === 'TaskScheduled' || e.type === 'TimerCreated' ||
      e.type === 'SubOrchestrationInstanceCreated' || e.type === 'EventSent') {
      if (e.eventId >= next) next = e.eventId + 1;
    }
  }
  return next;
}
