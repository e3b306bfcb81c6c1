import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent, type HistoryEvent } from '../../../src/core/history-event.ts';
import {
  buildOrchestrationState,
  OrchestrationRuntimeState,
} from '../../../src/core/runtime-state.ts';
import { isDurableTaskError } from '../../../src/core/errors.ts';

function started(): HistoryEvent {
  return newEvent({
    type: 'ExecutionStarted',
    orchestrationInstance: { instanceId: 'a', executionId: 'e1' },
    name: 'Hello',
    version: '',
    input: '"World"',
  });
}

describe('OrchestrationRuntimeState', () => {
  it('should be valid when empty or holding only an OrchestratorStarted marker', () => {
    assert.equal(new OrchestrationRuntimeState().isValid, true);
    const s = new OrchestrationRuntimeState([newEvent({ type: 'OrchestratorStarted' })]);
    assert.equal(s.isValid, true);
  });

  it('should be invalid when events exist but no ExecutionStarted', () => {
    const s = new OrchestrationRuntimeState([
      newEvent({ type: 'OrchestratorStarted' }),
      newEvent({ type: 'TimerCreated', eventId: 0, fireAt: new Date().toISOString() }),
    ]);
    assert.equal(s.isValid, false);
  });

  it('should reject a second ExecutionStarted as corruption', () => {
    const s = new OrchestrationRuntimeState([started()]);
    assert.throws(
      () => s.addEvent(started()),
      (e) => isDurableTaskError(e, 'CORRUPT_HISTORY'),
    );
  });

  it('should drop a duplicate TaskCompleted with a real event id', () => {
    const s = new OrchestrationRuntimeState([started()]);
    s.addEvent(newEvent({ type: 'TaskCompleted', eventId: 3, taskScheduledId: 0 }));
    s.addEvent(newEvent({ type: 'TaskCompleted', eventId: 3, taskScheduledId: 0 }));
    assert.equal(s.events.length, 2);
  });

  it('should let the first completion decide, except Terminated over ContinuedAsNew', () => {
    const s = new OrchestrationRuntimeState([started()]);
    assert.equal(s.orchestrationStatus, 'Running');
    s.addEvent(
      newEvent({ type: 'ContinueAsNew', orchestrationStatus: 'ContinuedAsNew', result: '1' }),
    );
    assert.equal(s.orchestrationStatus, 'ContinuedAsNew');
    s.addEvent(newEvent({ type: 'ExecutionCompleted', orchestrationStatus: 'Completed' }));
    assert.equal(s.orchestrationStatus, 'ContinuedAsNew');
    s.addEvent(
      newEvent({ type: 'ExecutionCompleted', orchestrationStatus: 'Terminated', result: '"x"' }),
    );
    assert.equal(s.orchestrationStatus, 'Terminated');
    assert.equal(s.output, '"x"');
  });

  it('should move between Suspended and Running, and ignore Resumed after completion', () => {
    const s = new OrchestrationRuntimeState([started()]);
    s.addEvent(newEvent({ type: 'ExecutionSuspended' }));
    assert.equal(s.orchestrationStatus, 'Suspended');
    s.addEvent(newEvent({ type: 'ExecutionResumed' }));
    assert.equal(s.orchestrationStatus, 'Running');
    s.addEvent(
      newEvent({ type: 'ExecutionCompleted', orchestrationStatus: 'Completed', result: '1' }),
    );
    s.addEvent(newEvent({ type: 'ExecutionResumed' }));
    assert.equal(s.orchestrationStatus, 'Completed');
  });

  it('should build a status record whose Failed output is the failure text', () => {
    const s = new OrchestrationRuntimeState([started()]);
    s.addEvent(
      newEvent({
        type: 'ExecutionCompleted',
        orchestrationStatus: 'Failed',
        failureDetails: { errorType: 'TypeError', errorMessage: 'boom', isNonRetriable: false },
      }),
    );
    const state = buildOrchestrationState(s);
    assert.equal(state.orchestrationStatus, 'Failed');
    assert.equal(state.output, 'TypeError: boom');
    assert.equal(state.input, '"World"');
    assert.ok(state.completedTime instanceof Date);
  });
});
