import { NonDeterminismError } from '../core/errors.ts';
import type { HistoryEvent } from '../core/history-event.ts';
import type { OrchestratorAction } from './orchestrator-action.ts';

type DecisionEvent = Extract<HistoryEvent, {
  type: 'TaskScheduled' | 'TimerCreated' | 'SubOrchestrationInstanceCreated' | 'EventSent';
}>;

const KIND_OF_EVENT: Record<DecisionEvent['type'], OrchestratorAction['kind']> = {
  TaskScheduled: 'scheduleTask',
  TimerCreated: 'createTimer',
  SubOrchestrationInstanceCreated: 'createSubOrchestration',
  EventSent: 'sendEvent',
};

const KIND_WORDS: Record<OrchestratorAction['kind'], string> = {
  scheduleTask: 'activity',
  createTimer: 'timer',
  createSubOrchestration: 'sub-orchestration',
  sendEvent: 'send-event',
  completeOrchestration: 'completion',
};

function describeEvent(e: DecisionEvent): string {
  const kind = KIND_WORDS[KIND_OF_EVENT[e.type]];
  return e.type === 'TimerCreated' ? `a ${kind} task` : `a ${kind} task named '${e.name}'`;
}

function describeAction(a: OrchestratorAction): string {
  const kind = KIND_WORDS[a.kind];
  return 'name' in a ? `a ${kind} task named '${a.name}'` : `a ${kind} task`;
}

function namesDiffer(a: string, b: string): boolean {
  return a !== b && a.toLowerCase() !== b.toLowerCase();
}

const SUFFIX = 'The orchestration code changed after this instance started, ' +
  'so its history no longer replays.';

/**
 * Compares a recorded decision with the pending action of the same id, and
 * returns the error that fails the instance when they do not match (id,
 * kind, and case-insensitive name are checked; nothing else), else undefined.
 */
export function checkDecision(
  event: DecisionEvent,
  action: OrchestratorAction | undefined,
  orchestrationName: string,
): NonDeterminismError | undefined {
  const where = `Non-deterministic orchestration '${orchestrationName}'`;
  if (!action) {
    return new NonDeterminismError(`${where}: history records ${describeEvent(event)} with ` +
      `sequence number ${event.eventId}, but the replayed code did not schedule it. ${SUFFIX}`);
  }
  if (action.kind !== KIND_OF_EVENT[event.type]) {
    return new NonDeterminismError(`${where}: history records ${describeEvent(event)} with ` +
      `sequence number ${event.eventId}, but the replayed code scheduled ` +
      `${describeAction(action)} there. ${SUFFIX}`);
  }
  if ('name' in event && 'name' in action && namesDiffer(event.name, action.name)) {
    return new NonDeterminismError(`${where}: history records ${describeEvent(event)} with ` +
      `sequence number ${event.eventId}, but the replayed code scheduled ` +
      `${describeAction(action)} there ` +
      `(expected '${event.name}', found '${action.name}'). ${SUFFIX}`);
  }
  return undefined;
}

export type { DecisionEvent };
