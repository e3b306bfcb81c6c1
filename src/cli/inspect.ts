import type { HistoryEvent } from '../core/history-event.ts';
import type { OrchestrationState } from '../core/orchestration-state.ts';
import { OrchestrationRuntimeState } from '../core/runtime-state.ts';

const SPLIT_TIMER_ID = -100;

/**
 * An instance's history as a timeline: one line per event with its time, its
 * offset from the earliest time shown, and the orchestration machine's state
 * after it; the last line marks the current state.
 */
export function historyTimeline(events: readonly HistoryEvent[]): string[] {
  if (events.length === 0) return ['(no history: the instance has not run an episode yet)'];
  const state = new OrchestrationRuntimeState();
  const times = events.map(shownTime);
  const first = Math.min(...times.map((t) => Date.parse(t)).filter((t) => !Number.isNaN(t)));
  const offsets = times.map((t) => `+${formatOffset(Date.parse(t) - first)}`);
  const width = Math.max(...offsets.map((o) => o.length));
  const lines: string[] = [];
  let lastState = '';
  events.forEach((e, i) => {
    state.addEvent(e);
    const machine = state.executionStartedEvent ? state.machineState : '-';
    const mark = machine !== lastState ? `[${machine}]` : '';
    lastState = machine;
    const id = e.eventId >= 0 ? `#${e.eventId}` : '';
    const head = `${times[i]}  ${(offsets[i] ?? '').padStart(width)}  ${id.padEnd(5)}`;
    lines.push([head, e.type.padEnd(34), describe(e), mark].filter(Boolean).join(' ').trimEnd());
  });
  lines.push(`=> current state: ${lastState}`);
  return lines;
}

/**
 * The time a row is shown at: its own timestamp, but a fired timer's is stamped when the
 * timer was scheduled, so it is shown at the time it was due.
 */
function shownTime(e: HistoryEvent): string {
  return e.type === 'TimerFired' && !Number.isNaN(Date.parse(e.fireAt)) ? e.fireAt : e.timestamp;
}

/** An offset in ms, short and readable: `12 ms`, `25.003 s`, `9m 01.105s`, `2h 03m 04.000s`. */
export function formatOffset(ms: number): string {
  if (Number.isNaN(ms)) return '?';
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(3)} s`;
  const seconds = ((ms % 60_000) / 1_000).toFixed(3).padStart(6, '0');
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m ${seconds}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m ${seconds}s`;
}

/** One-line summary of an event's own fields. */
function describe(e: HistoryEvent): string {
  switch (e.type) {
    case 'ExecutionStarted':
      return `${e.name} exec=${e.orchestrationInstance.executionId} input=${short(e.input)}`;
    case 'TaskScheduled':
      return `${e.name}`;
    case 'TaskCompleted':
    case 'SubOrchestrationInstanceCompleted':
      return `-> #${e.taskScheduledId} result=${short(e.result)}`;
    case 'TaskFailed':
    case 'SubOrchestrationInstanceFailed':
      return `-> #${e.taskScheduledId} ${e.failureDetails?.errorType ?? ''}: ${short(e.reason)}`;
    case 'SubOrchestrationInstanceCreated':
      return `${e.name} child=${JSON.stringify(e.instanceId)}`;
    case 'TimerCreated':
      return `fireAt=${e.fireAt}`;
    case 'TimerFired':
      return `-> #${e.timerId} fireAt=${e.fireAt}`;
    case 'EventRaised':
      return `${e.name} data=${short(e.input)}`;
    case 'EventSent':
      return `${e.name} to=${JSON.stringify(e.instanceId)}`;
    case 'ExecutionCompleted':
      return `${e.orchestrationStatus} ${short(e.result ?? e.failureDetails?.errorMessage)}`;
    case 'ContinueAsNew':
      return `next input=${short(e.result)}`;
    case 'ExecutionTerminated':
      return `reason=${short(e.input)}`;
    case 'ExecutionSuspended':
    case 'ExecutionResumed':
      return e.reason ? `reason=${short(e.reason)}` : '';
    default:
      return '';
  }
}

function short(text: string | undefined, max = 60): string {
  if (text === undefined) return '-';
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** What an instance is waiting for, read from its status record and history. */
export interface Explanation {
  readonly status: string;
  readonly openActivities: { id: number; name: string; since: string }[];
  readonly openSubOrchestrations: { id: number; name: string; instanceId: string }[];
  readonly pendingTimers: { id: number; fireAt: string }[];
  readonly eventsReceived: Record<string, number>;
  readonly summary: string;
}

export function explainInstance(
  state: OrchestrationState | null,
  events: readonly HistoryEvent[],
  now: number = Date.now(),
): Explanation {
  const activities = new Map<number, { id: number; name: string; since: string }>();
  const children = new Map<number, { id: number; name: string; instanceId: string }>();
  const timers = new Map<number, { id: number; fireAt: string }>();
  const received: Record<string, number> = {};
  for (const e of events) {
    if (e.type === 'TaskScheduled') {
      activities.set(e.eventId, { id: e.eventId, name: e.name, since: e.timestamp });
    } else if (e.type === 'TaskCompleted' || e.type === 'TaskFailed') {
      activities.delete(e.taskScheduledId);
    } else if (e.type === 'SubOrchestrationInstanceCreated') {
      children.set(e.eventId, { id: e.eventId, name: e.name, instanceId: e.instanceId });
    } else if (
      e.type === 'SubOrchestrationInstanceCompleted' ||
      e.type === 'SubOrchestrationInstanceFailed'
    ) {
      children.delete(e.taskScheduledId);
    } else if (e.type === 'TimerCreated' && e.eventId !== SPLIT_TIMER_ID) {
      timers.set(e.eventId, { id: e.eventId, fireAt: e.fireAt });
    } else if (e.type === 'TimerFired') {
      timers.delete(e.timerId);
    } else if (e.type === 'EventRaised') {
      received[e.name] = (received[e.name] ?? 0) + 1;
    }
  }
  const status = state?.orchestrationStatus ?? 'unknown';
  const waits: string[] = [];
  for (const a of activities.values()) waits.push(`activity '${a.name}' (#${a.id})`);
  for (const c of children.values()) {
    waits.push(
      `sub-orchestration '${c.name}' (#${c.id}, instance ${JSON.stringify(c.instanceId)})`,
    );
  }
  for (const t of timers.values()) {
    const left = Date.parse(t.fireAt) - now;
    // Within a second of its due time the timer is firing now; later than that it is late.
    const when = left > 0 ? `in ${fmt(left)}` : left < -1_000 ? `overdue by ${fmt(-left)}` : 'now';
    waits.push(`timer #${t.id} due ${t.fireAt} (${when})`);
  }
  let summary: string;
  if (!state) summary = 'No such instance.';
  else if (status === 'Pending') {
    summary = state.scheduledStartTime
      ? `Scheduled to start at ${state.scheduledStartTime.toISOString()}.`
      : 'Created; waiting for a worker to run its first episode.';
  } else if (status === 'Suspended') {
    summary =
      'Suspended: events are kept until it is resumed. ' +
      (waits.length > 0
        ? `Then it waits for ${waits.join(', ')}.`
        : 'It has no open task in history (awaited events are not recorded until they arrive).');
  } else if (status !== 'Running') summary = finished(state, status, events);
  else if (waits.length > 0) summary = `Waiting for ${waits.join(', ')}.`;
  else {
    summary =
      'Running with no open task in history: it is waiting for an external event ' +
      '(awaited events are not recorded until they arrive) or for its next episode.';
  }
  return {
    status,
    openActivities: [...activities.values()],
    openSubOrchestrations: [...children.values()],
    pendingTimers: [...timers.values()],
    eventsReceived: received,
    summary,
  };
}

/** `Finished: X.`, with the failure message or termination reason on one line when known. */
function finished(
  state: OrchestrationState,
  status: string,
  events: readonly HistoryEvent[],
): string {
  let why: string | undefined;
  if (status === 'Failed') {
    const done = events.findLast((e) => e.type === 'ExecutionCompleted');
    const details =
      state.failureDetails ??
      (done?.type === 'ExecutionCompleted' ? done.failureDetails : undefined);
    if (details) {
      why = details.errorType
        ? `${details.errorType}: ${details.errorMessage}`
        : details.errorMessage;
    }
  } else if (status === 'Terminated') {
    const ended = events.findLast((e) => e.type === 'ExecutionTerminated');
    why = state.output ?? (ended?.type === 'ExecutionTerminated' ? ended.input : undefined);
  }
  return why ? `Finished: ${status}: ${oneLine(why)}` : `Finished: ${status}.`;
}

/** The first line of `text`, at most `max` characters, marked when cut. */
function oneLine(text: string, max = 160): string {
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  const cut = first.length > max ? first.slice(0, max) : first;
  return cut.length < text.length ? `${cut}…` : cut;
}

function fmt(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 2 * 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 2 * 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} days`;
}
