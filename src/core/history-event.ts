import type { FailureDetails } from './failure-details.ts';
import type { OrchestrationInstance, ParentInstance } from './orchestration-instance.ts';
import type { OrchestrationStatus } from './orchestration-status.ts';

/**
 * History events: the catalogue of the Durable Task Framework, as a
 * discriminated union on `type`. Payloads (`input`, `result`) are serialized
 * JSON text; `undefined` means "no payload". Times are ISO 8601 UTC strings so
 * that histories round-trip through JSON unchanged.
 */
interface EventBase {
  /** Action id for events tied to an orchestrator decision, else -1. */
  readonly eventId: number;
  /** ISO 8601 UTC time at which the event object was created. */
  readonly timestamp: string;
}

export type Tags = Readonly<Record<string, string>>;

export interface ExecutionStartedEvent extends EventBase {
  readonly type: 'ExecutionStarted';
  readonly orchestrationInstance: Required<OrchestrationInstance>;
  readonly parentInstance?: ParentInstance;
  readonly name: string;
  readonly version: string;
  readonly input?: string;
  readonly tags?: Tags;
  readonly scheduledStartTime?: string;
  readonly generation?: number;
}

export interface ExecutionCompletedEvent extends EventBase {
  readonly type: 'ExecutionCompleted';
  readonly orchestrationStatus: OrchestrationStatus;
  readonly result?: string;
  readonly failureDetails?: FailureDetails;
}

/** Legacy type, never produced; kept for the catalogue's completeness. */
export interface ExecutionFailedEvent extends EventBase {
  readonly type: 'ExecutionFailed';
}

export interface ExecutionTerminatedEvent extends EventBase {
  readonly type: 'ExecutionTerminated';
  /** The reason, serialized. */
  readonly input?: string;
}

export interface TaskScheduledEvent extends EventBase {
  readonly type: 'TaskScheduled';
  readonly name: string;
  readonly version: string;
  readonly input?: string;
  readonly tags?: Tags;
}

export interface TaskCompletedEvent extends EventBase {
  readonly type: 'TaskCompleted';
  readonly taskScheduledId: number;
  readonly result?: string;
}

export interface TaskFailedEvent extends EventBase {
  readonly type: 'TaskFailed';
  readonly taskScheduledId: number;
  readonly reason?: string;
  readonly details?: string;
  readonly failureDetails?: FailureDetails;
}

export interface SubOrchestrationInstanceCreatedEvent extends EventBase {
  readonly type: 'SubOrchestrationInstanceCreated';
  readonly name: string;
  readonly version: string;
  readonly instanceId: string;
  readonly input?: string;
  readonly tags?: Tags;
}

export interface SubOrchestrationInstanceCompletedEvent extends EventBase {
  readonly type: 'SubOrchestrationInstanceCompleted';
  readonly taskScheduledId: number;
  readonly result?: string;
}

export interface SubOrchestrationInstanceFailedEvent extends EventBase {
  readonly type: 'SubOrchestrationInstanceFailed';
  readonly taskScheduledId: number;
  readonly reason?: string;
  readonly details?: string;
  readonly failureDetails?: FailureDetails;
}

export interface TimerCreatedEvent extends EventBase {
  readonly type: 'TimerCreated';
  readonly fireAt: string;
}

export interface TimerFiredEvent extends EventBase {
  readonly type: 'TimerFired';
  readonly timerId: number;
  readonly fireAt: string;
}

export interface OrchestratorStartedEvent extends EventBase {
  readonly type: 'OrchestratorStarted';
}

export interface OrchestratorCompletedEvent extends EventBase {
  readonly type: 'OrchestratorCompleted';
}

export interface EventSentEvent extends EventBase {
  readonly type: 'EventSent';
  readonly instanceId: string;
  readonly name: string;
  readonly input?: string;
}

export interface EventRaisedEvent extends EventBase {
  readonly type: 'EventRaised';
  readonly name: string;
  readonly input?: string;
}

/** End of an execution that continues as new; `result` is the next input. */
export interface ContinueAsNewEvent extends EventBase {
  readonly type: 'ContinueAsNew';
  readonly orchestrationStatus: 'ContinuedAsNew';
  readonly result?: string;
}

export interface GenericEvent extends EventBase {
  readonly type: 'GenericEvent';
  readonly data?: string;
}

export interface HistoryStateEvent extends EventBase {
  readonly type: 'HistoryState';
  readonly state?: unknown;
}

export interface ExecutionSuspendedEvent extends EventBase {
  readonly type: 'ExecutionSuspended';
  readonly reason?: string;
}

export interface ExecutionResumedEvent extends EventBase {
  readonly type: 'ExecutionResumed';
  readonly reason?: string;
}

export interface ExecutionRewoundEvent extends EventBase {
  readonly type: 'ExecutionRewound';
  readonly reason?: string;
  readonly parentExecutionId?: string;
  readonly instanceId?: string;
}

export type HistoryEvent =
  | ExecutionStartedEvent
  | ExecutionCompletedEvent
  | ExecutionFailedEvent
  | ExecutionTerminatedEvent
  | TaskScheduledEvent
  | TaskCompletedEvent
  | TaskFailedEvent
  | SubOrchestrationInstanceCreatedEvent
  | SubOrchestrationInstanceCompletedEvent
  | SubOrchestrationInstanceFailedEvent
  | TimerCreatedEvent
  | TimerFiredEvent
  | OrchestratorStartedEvent
  | OrchestratorCompletedEvent
  | EventSentEvent
  | EventRaisedEvent
  | ContinueAsNewEvent
  | GenericEvent
  | HistoryStateEvent
  | ExecutionSuspendedEvent
  | ExecutionResumedEvent
  | ExecutionRewoundEvent;

export type EventType = HistoryEvent['type'];

/** Wire-relevant numeric order of the catalogue (append-only). */
export const EVENT_TYPE_ORDER: readonly EventType[] = [
  'ExecutionStarted',
  'ExecutionCompleted',
  'ExecutionFailed',
  'ExecutionTerminated',
  'TaskScheduled',
  'TaskCompleted',
  'TaskFailed',
  'SubOrchestrationInstanceCreated',
  'SubOrchestrationInstanceCompleted',
  'SubOrchestrationInstanceFailed',
  'TimerCreated',
  'TimerFired',
  'OrchestratorStarted',
  'OrchestratorCompleted',
  'EventSent',
  'EventRaised',
  'ContinueAsNew',
  'GenericEvent',
  'HistoryState',
  'ExecutionSuspended',
  'ExecutionResumed',
  'ExecutionRewound',
];

const KNOWN_TYPES = new Set<string>(EVENT_TYPE_ORDER);

export type EventOfType<T extends EventType> = Extract<HistoryEvent, { type: T }>;

/** Distributive omit, so that each member of the union keeps its own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type NewEvent = DistributiveOmit<HistoryEvent, 'timestamp' | 'eventId'> & {
  eventId?: number;
  timestamp?: string;
};

/**
 * Builds a history event, stamping the current time and eventId -1 when they
 * are not given.
 */
export function newEvent<E extends NewEvent>(
  fields: E,
  now: number = Date.now(),
): Extract<HistoryEvent, { type: E['type'] }> {
  return {
    eventId: -1,
    timestamp: new Date(now).toISOString(),
    ...fields,
  } as unknown as Extract<HistoryEvent, { type: E['type'] }>;
}

export function isHistoryEvent(value: unknown): value is HistoryEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['type'] === 'string' &&
    KNOWN_TYPES.has(v['type']) &&
    typeof v['eventId'] === 'number' &&
    typeof v['timestamp'] === 'string'
  );
}

/** True for events that record an orchestrator decision (matched on replay). */
export function isDecisionEvent(e: HistoryEvent): boolean {
  return (
    e.type === 'TaskScheduled' ||
    e.type === 'TimerCreated' ||
    e.type === 'SubOrchestrationInstanceCreated' ||
    e.type === 'EventSent'
  );
}
