import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import type { OrchestrationWorkItem } from '../../src/core/work-item.ts';
import { backendFixtures } from '../support/backends.ts';
import { eventually } from '../support/conformance-helpers.ts';
import {
  checkpoint,
  createInstance,
  EMPTY_RECEIVE_MS,
  lockOrchestration,
  newExecutionId,
  startMessage,
  startService,
} from '../support/service-harness.ts';

/** `at` written in local time at UTC+02:00, as a caller in that zone might send it. */
function atPlusTwoHours(at: number): string {
  return `${new Date(at + 2 * 60 * 60 * 1000).toISOString().slice(0, -1)}+02:00`;
}

// Edge rules the contract defines that both backends keep the same way.

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('[59] a start time given in local time is stored normalised to UTC', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      const at = Date.now() + 3_000;
      const utc = new Date(at).toISOString();
      const local = atPlusTwoHours(at);
      assert.notEqual(local, utc);
      await b.client.createOrchestration(
        startMessage('local', 'When', undefined, { scheduledStartTime: local }),
      );
      const [pending] = await b.client.getOrchestrationState('local');
      assert.equal(pending?.orchestrationStatus, 'Pending');
      assert.equal(pending?.scheduledStartTime?.toISOString(), utc);
      assert.equal(await lockOrchestration(b, EMPTY_RECEIVE_MS), null, 'started before its time');
      const wi = await lockOrchestration(b);
      assert.ok(wi, 'the scheduled start never came');
      assert.ok(Date.now() >= at, 'started before its time');
      const start = wi.newMessages[0]?.event;
      assert.ok(start?.type === 'ExecutionStarted');
      assert.equal(start.scheduledStartTime, utc);
      await checkpoint(b, wi);
      const history = await b.client.getOrchestrationHistory('local');
      const stored = history.find((e) => e.type === 'ExecutionStarted');
      assert.ok(stored?.type === 'ExecutionStarted');
      assert.equal(stored.scheduledStartTime, utc);
    });

    it('should refuse a scheduled start time that is not a time', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      await assert.rejects(
        b.client.createOrchestration(
          startMessage('bad-time', 'When', undefined, { scheduledStartTime: 'next tuesday' }),
        ),
        (err: unknown) => (err as { code?: string }).code === 'INVALID_ARGUMENT',
      );
      assert.deepEqual(await b.client.getOrchestrationState('bad-time'), []);
    });

    it('should show a child as Pending from the parent checkpoint, terminable by id', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      const parent = await createInstance(b, 'p2', 'Parent');
      const first = await lockOrchestration(b);
      assert.ok(first);
      const executionId = newExecutionId();
      const start = newEvent({
        type: 'ExecutionStarted',
        orchestrationInstance: { instanceId: 'p2 child', executionId },
        parentInstance: {
          name: 'Parent',
          version: '',
          orchestrationInstance: parent,
          taskScheduleId: 0,
        },
        name: 'Child',
        version: '',
        input: '7',
      });
      await checkpoint(b, first, {
        events: [
          {
            type: 'SubOrchestrationInstanceCreated',
            eventId: 0,
            name: 'Child',
            version: '',
            instanceId: 'p2 child',
          },
        ],
        orchestratorMessages: [taskMessage(start, { instanceId: 'p2 child', executionId })],
      });
      await b.service.releaseOrchestrationWorkItem(first);

      const child = await eventually(
        'the Pending record of the child',
        async () => (await b.client.getOrchestrationState('p2 child'))[0],
      );
      assert.equal(child.orchestrationStatus, 'Pending');
      assert.equal(child.orchestrationInstance.executionId, executionId);
      assert.equal(child.parentInstance?.orchestrationInstance.instanceId, 'p2');
      assert.equal(child.input, '7');
      await b.client.forceTerminateOrchestration('p2 child', '"not needed"');

      const [after] = await b.client.getOrchestrationState('p2 child');
      assert.equal(after?.orchestrationStatus, 'Terminated');
      // The parent hears of it; the child's own dropped messages may come first (bounded).
      let told: OrchestrationWorkItem | null = null;
      for (let i = 0; i < 5 && !told; i++) {
        const wi = await lockOrchestration(b);
        assert.ok(wi, 'the parent was not told');
        if (wi.instanceId === 'p2') told = wi;
        else await b.service.releaseOrchestrationWorkItem(wi);
      }
      assert.deepEqual(
        told?.newMessages.map((m) => m.event.type),
        ['SubOrchestrationInstanceFailed'],
      );
    });

    it('should tell the parent when a Pending child is terminated before it ran', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      const parent = await createInstance(b, 'parent', 'Parent');
      const first = await lockOrchestration(b);
      assert.ok(first);
      await checkpoint(b, first, {
        events: [
          {
            type: 'SubOrchestrationInstanceCreated',
            eventId: 3,
            name: 'Child',
            version: '',
            instanceId: 'child',
          },
        ],
      });
      await b.service.releaseOrchestrationWorkItem(first);
      // The child's start as a client could send it: Pending, with its parent.
      const executionId = newExecutionId();
      const start = newEvent({
        type: 'ExecutionStarted',
        orchestrationInstance: { instanceId: 'child', executionId },
        parentInstance: {
          name: 'Parent',
          version: '',
          orchestrationInstance: parent,
          taskScheduleId: 3,
        },
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
