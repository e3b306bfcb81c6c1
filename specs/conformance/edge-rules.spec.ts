import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import type { OrchestrationWorkItem } from '../../src/core/work-item.ts';
import { backendFixtures } from '../support/backends.ts';
import {
  checkpoint,
  createInstance,
  lockOrchestration,
  newExecutionId,
  startService,
} from '../support/service-harness.ts';

// Edge rules the contract defines that both backends keep the same way.

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('should tell the parent when a Pending child is terminated before it ran', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      const parent = await createInstance(b, 'parent', 'Parent');
      const first = await lockOrchestration(b);
      assert.ok(first);
      await checkpoint(b, first, {
        events: [
          { type: 'SubOrchestrationInstanceCreated', eventId: 3, name: 'Child', version: '',
            instanceId: 'child' },
        ],
      });
      await b.service.releaseOrchestrationWorkItem(first);
      // The child's start as a client could send it: Pending, with its parent.
      const executionId = newExecutionId();
      const start = newEvent({
        type: 'ExecutionStarted',
        orchestrationInstance: { instanceId: 'child', executionId },
        parentInstance: { name: 'Parent', version: '', orchestrationInstance: parent,
          taskScheduleId: 3 },
        name: 'Child',
        version: '',
        scheduledStartTime: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
      });
      await b.client.createOrchestration(taskMessage(start, { instanceId: 'child', executionId }));
      await b.client.forceTerminateOrchestration('child', '"not needed"');

      const [child] = await b.client.getOrchestrationState('child');
      assert.equal(child?.orchestrationStatus, 'Terminated');
      let report: OrchestrationWorkItem | null = null;
      // Bounded: the child's own (dropped) messages may come first on some backends.
      for (let i = 0; i < 5 && !report; i++) {
        const wi = await lockOrchestration(b);
        assert.ok(wi, 'the parent was not told');
        if (wi.instanceId === 'parent') report = wi;
        else await b.service.releaseOrchestrationWorkItem(wi);
      }
      assert.ok(report);
      assert.equal(report.newMessages.length, 1);
      const ev = report.newMessages[0]?.event;
      assert.ok(ev?.type === 'SubOrchestrationInstanceFailed');
      assert.equal(ev.taskScheduledId, 3);
      assert.equal(ev.failureDetails?.errorType, 'OrchestrationTerminated');
      assert.match(ev.failureDetails?.errorMessage ?? '', /'child' was terminated: not needed/);
    });
  });
}
