import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orchestrationMachine, taskHubMachine } from '../../actors/index.ts';
import { newEvent, type HistoryEvent } from '../../src/core/history-event.ts';
import { explainInstance, historyTimeline } from '../../src/cli/inspect.ts';
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
    assert.match(lines[5] ?? '', /\+ +9 ms .*ExecutionSuspended .*\[suspended\]/);
    assert.equal(lines.at(-1), '=> current state: suspended');
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
