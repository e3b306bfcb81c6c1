import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import { planBatch, type BatchCandidate, type InstanceView } from '../../src/nats/batch-builder.ts';

const CAPS = { maxMessages: 100, maxBytes: 1_000_000 };

/** A child start of instance 'kid' for execution `executionId`, sent by `parent`. */
function childStart(executionId: string, parent: string): BatchCandidate {
  const event = newEvent({
    type: 'ExecutionStarted', orchestrationInstance: { instanceId: 'kid', executionId },
    name: 'Kid', version: '',
    parentInstance: { name: 'P', version: '', taskScheduleId: 0,
      orchestrationInstance: { instanceId: parent, executionId: 'p1' } },
  });
  return { seq: 1, message: taskMessage(event, { instanceId: 'kid', executionId }), bytes: 100 };
}

/** 'kid' finished (Failed) in execution k1. */
const finished: InstanceView = {
  current: { executionId: 'k1', live: false },
  record: { executionId: 'k1', status: 'Failed' },
  applied: new Set(),
};

describe('planBatch: re-creating a finished child (contract 3.9)', () => {
  it("should start a parent's new execution of a finished child", () => {
    const s = childStart('k2', 'parent');
    const plan = planBatch([s], finished, CAPS);
    assert.deepEqual(plan.batch, [s]);
    assert.equal(plan.newExecution, true);
  });

  it('should drop a start the instance sent to itself, and one for a live child', () => {
    const self = planBatch([childStart('k2', 'kid')], finished, CAPS);
    assert.equal(self.batch.length, 0);
    assert.match(self.drop[0]?.reason ?? '', /stale start/);
    const live: InstanceView = { current: { executionId: 'k1', live: true },
      record: { executionId: 'k1', status: 'Running' }, applied: new Set() };
    const running = planBatch([childStart('k2', 'parent')], live, CAPS);
    assert.equal(running.batch.length, 0);
    assert.equal(running.drop.length, 1);
  });
});
