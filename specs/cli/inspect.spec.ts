import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orchestrationMachine, taskHubMachine } from '../../actors/index.ts';
import { newEvent, type HistoryEvent } from '../../src/core/history-event.ts';
import { explainInstance, formatOffset, historyTimeline } from '../../src/cli/inspect.ts';
import type { OrchestrationState } from '../../src/core/orchestration-state.ts';
import { machineToMermaid } from '../../src/cli/mermaid.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

function history(): HistoryEvent[] {
  return [
    newEvent({ type: 'OrchestratorStarted' }, T0),
    newEvent(
      {
        type: 'ExecutionStarted',
        name: 'Approval',
        version: '',
        input: '"PO-1"',
        orchestrationInstance: { instanceId: 'a', executionId: 'e1' },
      },
      T0,
    ),
    newEvent({ type: 'TaskScheduled', eventId: 0, name: 'Notify', version: '' }, T0),
    newEvent({ type: 'TimerCreated', eventId: 1, fireAt: '2026-01-02T00:00:00.000Z' }, T0),
    newEvent({ type: 'OrchestratorCompleted' }, T0 + 5),
  ];
}

describe('machine diagrams', () => {
  it('should render every state and transition of a machine from its definition', () => {
    const text = machineToMermaid(taskHubMachine);
    assert.match(text, /^stateDiagram-v2\n/);
    assert.match(text, /\[\*\] --> absent/);
    assert.match(text, /created --> starting: hub\.start/);
    assert.match(text, /creating --> created: provision done/);
    const orch = machineToMermaid(orchestrationMachine);
    assert.match(orch, /running --> failed: ExecutionCompleted \[isFailed\]/);
    assert.match(orch, /completed --> \[\*\]/);
  });
});

describe('history timeline', () => {
  it('should list each event with its offset and mark the current machine state', () => {
    const events = history();
    events.push(newEvent({ type: 'ExecutionSuspended', reason: 'hold' }, T0 + 9));
    const lines = historyTimeline(events);
    assert.equal(lines.length, events.length + 1);
    assert.match(lines[1] ?? '', /ExecutionStarted .*Approval .*\[running\]/);
    assert.match(lines[5] ?? '', /\+9 ms +ExecutionSuspended .*\[suspended\]/);
    assert.equal(lines.at(-1), '=> current state: suspended');
  });
});

describe('history timeline times', () => {
  it('should show a fired timer at its due time, not when it was scheduled', () => {
    const fireAt = '2026-01-01T00:00:30.000Z';
    const events = history();
    events.push(
      newEvent({ type: 'TimerFired', timerId: 1, fireAt }, T0),
      newEvent({ type: 'OrchestratorStarted' }, T0 + 30_010),
    );
    const lines = historyTimeline(events);
    assert.match(lines[5] ?? '', /^2026-01-01T00:00:30\.000Z +\+30\.000 s +TimerFired /);
    assert.match(lines[6] ?? '', /^\S+ +\+30\.010 s +OrchestratorStarted/);
  });

  it('should measure offsets from the earliest event shown, never negative', () => {
    const events = [
      newEvent({ type: 'OrchestratorStarted' }, T0 + 2_474),
      newEvent({ type: 'EventRaised', eventId: -1, name: 'go', input: '1' }, T0),
      newEvent({ type: 'OrchestratorCompleted' }, T0 + 2_480),
    ];
    const lines = historyTimeline(events).slice(0, 3);
    assert.ok(
      lines.every((l) => !l.includes('-2')),
      lines.join('\n'),
    );
    assert.match(lines[1] ?? '', /\+0 ms/);
    assert.match(lines[0] ?? '', /\+2\.474 s/);
  });

  it('should format long offsets readably and keep the columns aligned', () => {
    assert.equal(formatOffset(541_105), '9m 01.105s');
    assert.equal(formatOffset(25_003), '25.003 s');
    assert.equal(formatOffset(7_384_000), '2h 03m 04.000s');
    const events = [
      newEvent({ type: 'OrchestratorStarted' }, T0),
      newEvent({ type: 'OrchestratorCompleted' }, T0 + 5),
      newEvent({ type: 'OrchestratorStarted' }, T0 + 541_105),
    ];
    const lines = historyTimeline(events).slice(0, 3);
    const column = lines.map((l) => l.indexOf('Orchestrator'));
    assert.deepEqual(column, [column[0], column[0], column[0]], lines.join('\n'));
    assert.match(lines[2] ?? '', /\+9m 01\.105s/);
  });

  it('should print a suspension without a reason with single spaces', () => {
    const events = history();
    events.push(newEvent({ type: 'ExecutionSuspended' }, T0 + 9));
    const line = historyTimeline(events)[5] ?? '';
    assert.match(line, /ExecutionSuspended +\[suspended\]$/);
    assert.doesNotMatch(line.slice(line.indexOf('ExecutionSuspended') + 40), / {2}/);
    const type = 'ExecutionSuspended'.padEnd(34);
    assert.ok(line.includes(`${type} [suspended]`), line);
  });
});

function stateOf(status: OrchestrationState['orchestrationStatus'], more = {}): OrchestrationState {
  return {
    orchestrationInstance: { instanceId: 'a', executionId: 'e1' },
    name: 'Approval',
    version: '',
    orchestrationStatus: status,
    createdTime: new Date(T0),
    lastUpdatedTime: new Date(T0),
    completedTime: null,
    scheduledStartTime: null,
    ...more,
  };
}

describe('explain of suspended, late and ended instances', () => {
  it('should list what a suspended instance waits on', () => {
    const why = explainInstance(stateOf('Suspended'), history(), T0 + 3_600_000);
    assert.match(why.summary, /^Suspended: events are kept until it is resumed\./);
    assert.match(why.summary, /activity 'Notify' \(#0\), timer #1 due .* \(in 23\.0 h\)/);
    const idle = explainInstance(stateOf('Suspended'), history().slice(0, 2), T0);
    assert.match(idle.summary, /no open task/);
  });

  it('should say a timer is overdue when its due time is more than a second past', () => {
    const due = Date.parse('2026-01-02T00:00:00.000Z');
    const late = explainInstance(stateOf('Running'), history(), due + 12_000);
    assert.match(late.summary, /timer #1 due .* \(overdue by 12\.0 s\)/);
    const onTime = explainInstance(stateOf('Running'), history(), due + 500);
    assert.match(onTime.summary, /timer #1 due .* \(now\)/);
  });

  it('should give the failure message of a failed instance on one line', () => {
    const failed = stateOf('Failed', {
      failureDetails: { errorType: 'Error', errorMessage: 'card declined\n    at pay (x.ts:1)' },
    });
    const why = explainInstance(failed, history(), T0);
    assert.equal(why.summary, 'Finished: Failed: Error: card declined…');
  });

  it('should give the reason a terminated instance was ended for', () => {
    const events = history();
    events.push(newEvent({ type: 'ExecutionTerminated', input: '"operator stop"' }, T0 + 9));
    const why = explainInstance(stateOf('Terminated'), events, T0);
    assert.equal(why.summary, 'Finished: Terminated: "operator stop"');
  });
});

describe('explain', () => {
  it('should name the open activity and the pending timer of a running instance', () => {
    const why = explainInstance(
      {
        orchestrationInstance: { instanceId: 'a', executionId: 'e1' },
        name: 'Approval',
        version: '',
        orchestrationStatus: 'Running',
        createdTime: new Date(T0),
        lastUpdatedTime: new Date(T0),
        completedTime: null,
        scheduledStartTime: null,
      },
      history(),
      T0 + 3_600_000,
    );
    assert.deepEqual(
      why.openActivities.map((a) => a.name),
      ['Notify'],
    );
    assert.deepEqual(
      why.pendingTimers.map((t) => t.id),
      [1],
    );
    assert.match(why.summary, /activity 'Notify' \(#0\), timer #1 due .* \(in 23\.0 h\)/);
  });

  it('should say when an instance is unknown or finished', () => {
    assert.equal(explainInstance(null, []).summary, 'No such instance.');
    const done = explainInstance(
      {
        orchestrationInstance: { instanceId: 'a', executionId: 'e1' },
        name: 'X',
        version: '',
        orchestrationStatus: 'Completed',
        createdTime: new Date(T0),
        lastUpdatedTime: new Date(T0),
        completedTime: new Date(T0),
        scheduledStartTime: null,
      },
      [],
    );
    assert.equal(done.summary, 'Finished: Completed.');
  });
});
