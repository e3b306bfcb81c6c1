import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent, type NewEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import { planBatch, type BatchCandidate, type InstanceView } from '../../src/nats/batch-builder.ts';

const CAPS = { maxMessages: 100, maxBytes: 1_000_000 };
let seq = 0;

function msg(event: NewEvent, executionId?: string): BatchCandidate {
  seq++;
  const instance = executionId === undefined
    ? { instanceId: 'i' } : { instanceId: 'i', executionId };
  return { seq, message: taskMessage(newEvent(event), instance), bytes: 100 };
}

function start(executionId: string): BatchCandidate {
  return msg({ type: 'ExecutionStarted', orchestrationInstance: { instanceId: 'i', executionId },
    name: 'N', version: '' }, executionId);
}

const raise = (exec?: string) => msg({ type: 'EventRaised', name: 'e' }, exec);

function view(partial: Partial<InstanceView>): InstanceView {
  return { current: null, record: null, applied: new Set(), ...partial };
}

const types = (ms: readonly BatchCandidate[]) => ms.map((m) => m.message.event.type);

describe('planBatch', () => {
  it('should hand out a new instance start with an empty state', () => {
    const s = start('x');
    const plan = planBatch([s], view({ record: { executionId: 'x', status: 'Pending' } }), CAPS);
    assert.deepEqual(plan.batch, [s]);
    assert.equal(plan.newExecution, true);
  });

  it('should hold events that raced ahead of an announced start, then put the start first', () => {
    const r1 = raise();
    const v = view({ record: { executionId: 'x', status: 'Pending' } });
    const waiting = planBatch([r1], v, CAPS);
    assert.deepEqual(waiting.batch, []);
    assert.deepEqual(waiting.keep, [r1]);
    assert.equal(waiting.waitingForStart, true);
    const s = start('x');
    const plan = planBatch([r1, s], v, CAPS);
    assert.deepEqual(types(plan.batch), ['ExecutionStarted', 'EventRaised']);
  });

  it('should drop messages for unknown and finished instances and stale executions', () => {
    const unknown = planBatch([raise()], view({}), CAPS);
    assert.equal(unknown.drop.length, 1);
    assert.match(unknown.drop[0]?.reason ?? '', /unknown instance/);
    const finished = planBatch([raise(), raise('e1')],
      view({ current: { executionId: 'e1', live: false },
        record: { executionId: 'e1', status: 'Completed' } }), CAPS);
    assert.equal(finished.drop.length, 2);
    const stale = planBatch([raise('old'), raise('e1')],
      view({ current: { executionId: 'e1', live: true } }), CAPS);
    assert.equal(stale.drop.length, 1);
    assert.match(stale.drop[0]?.reason ?? '', /stale execution old/);
    assert.equal(stale.batch.length, 1);
  });

  it('should drop duplicate and stale starts', () => {
    const running = view({ current: { executionId: 'e1', live: true },
      record: { executionId: 'e1', status: 'Running' } });
    assert.match(planBatch([start('e1')], running, CAPS).drop[0]?.reason ?? '', /duplicate/);
    assert.match(planBatch([start('e0')], running, CAPS).drop[0]?.reason ?? '', /stale start/);
    const terminatedPending = view({ record: { executionId: 'x', status: 'Terminated' } });
    assert.equal(planBatch([start('x')], terminatedPending, CAPS).drop.length, 1);
  });

  it('should end the current execution batch at a re-creation start', () => {
    const v = view({ current: { executionId: 'e1', live: true },
      record: { executionId: 'e2', status: 'Pending' } });
    const term = msg({ type: 'ExecutionTerminated' });
    const s2 = start('e2');
    const after = raise();
    const plan = planBatch([term, s2, after], v, CAPS);
    assert.deepEqual(plan.batch, [term]);
    assert.equal(plan.newExecution, false);
    assert.deepEqual(plan.keep, [s2, after]);
  });

  it('should skip messages the last checkpoint applied and respect the caps', () => {
    const a = raise('e1');
    const b = raise('e1');
    const c = raise('e1');
    const v = view({ current: { executionId: 'e1', live: true }, applied: new Set([a.seq]) });
    const plan = planBatch([a, b, c], v, { maxMessages: 1, maxBytes: 1_000_000 });
    assert.equal(plan.drop.length, 1);
    assert.deepEqual(plan.batch, [b]);
    assert.deepEqual(plan.keep, [c]);
  });
});
