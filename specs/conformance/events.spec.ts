import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendFixtures } from '../support/backends.ts';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import {
  countType,
  delay,
  eventually,
  gate,
  ofType,
  outputOf,
  rejectsWithCode,
} from '../support/conformance-helpers.ts';
import { startHub } from '../support/hub-harness.ts';

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('[26] an orchestration waits for a raised event', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Signal: function* (ctx) {
            const user: string = yield ctx.waitForExternalEvent('GetUser');
            return yield ctx.callActivity('SendGreeting', user);
          },
        },
        activities: { SendGreeting: (_ctx, user: string) => `Greeting send to ${user}` },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('Signal');
      await delay(500);
      const waiting = await hub.client.getOrchestrationState(instanceId);
      assert.ok(waiting && ['Pending', 'Running'].includes(waiting.orchestrationStatus));
      await hub.client.raiseEvent(instanceId, 'GetUser', 'Gabbar');
      assert.equal(outputOf(await hub.wait(instanceId)), 'Greeting send to Gabbar');
    });

    it('[27] ten events keep the order they were raised in', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Ordered: function* (ctx) {
            for (let i = 0; i < 10; i++) {
              const v: number = yield ctx.waitForExternalEvent('MyEvent');
              if (v !== i) throw new Error(`event ${i} carried ${v}`);
            }
            return 'in order';
          },
        },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('Ordered');
      for (let i = 0; i < 10; i++) await hub.client.raiseEvent(instanceId, 'MyEvent', i);
      assert.equal(outputOf(await hub.wait(instanceId)), 'in order');
    });

    it('[28] waiting for an event with a timeout: raised completes, absent fails', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Timed: function* (ctx) {
            const v: string = yield ctx.waitForExternalEvent('MyEvent', { timeoutMs: 1_500 });
            return v;
          },
        },
      });
      if (!hub) return;
      const raised = await hub.client.createOrchestrationInstance('Timed');
      const absent = await hub.client.createOrchestrationInstance('Timed');
      await hub.client.raiseEvent(raised.instanceId, 'MyEvent', 'here');
      const [ok, timedOut] = await Promise.all([
        hub.wait(raised.instanceId),
        hub.wait(absent.instanceId),
      ]);
      assert.equal(outputOf(ok), 'here');
      assert.equal(timedOut.orchestrationStatus, 'Failed');
      assert.match(timedOut.output ?? '', /time|cancel/i);
      const history = await hub.client.getOrchestrationHistory(absent.instanceId);
      assert.equal(countType(history, 'TimerCreated'), 1, 'the timeout is not a durable timer');
      assert.equal(countType(history, 'TimerFired'), 1);
    });

    it('[30] the event of create-with-event is delivered after the start', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          FirstEvent: function* (ctx, input: string) {
            const v: string = yield ctx.waitForExternalEvent('Kick');
            return `${input}+${v}`;
          },
        },
      });
      if (!hub) return;
      const states = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          hub.run('FirstEvent', {
            input: `in${i}`,
            initialEvent: { name: 'Kick', data: `ev${i}` },
          }),
        ),
      );
      states.forEach((s, i) => assert.equal(outputOf(s), `in${i}+ev${i}`));
      const history = await hub.client.getOrchestrationHistory(
        states[0]?.orchestrationInstance.instanceId ?? '',
      );
      const types = history.map((e) => e.type);
      assert.ok(types.indexOf('ExecutionStarted') < types.indexOf('EventRaised'));
      assert.equal(ofType(history, 'EventRaised')[0]?.name, 'Kick');
    });

    it('[31] client messages to an unknown instance are refused', async (t) => {
      const hub = await startHub(t, fixture, { orchestrations: {} });
      if (!hub) return;
      await rejectsWithCode(hub.client.raiseEvent('ghost', 'E', 1), 'INSTANCE_NOT_FOUND');
      await rejectsWithCode(hub.client.terminate('ghost', 'x'), 'INSTANCE_NOT_FOUND');
      await rejectsWithCode(hub.client.suspend('ghost'), 'INSTANCE_NOT_FOUND');
      await rejectsWithCode(hub.client.resume('ghost'), 'INSTANCE_NOT_FOUND');
      assert.equal(await hub.client.getOrchestrationState('ghost'), null);
    });

    it('[32] a result for an unknown task is delivered and ignored (design 9.24)', async (t) => {
      const open = gate();
      t.after(() => open.open());
      const hub = await startHub(t, fixture, {
        orchestrations: {
          One: function* (ctx) {
            return yield ctx.callActivity('Gated');
          },
        },
        activities: {
          Gated: async () => {
            await open.wait(30_000);
            return 'real';
          },
        },
      });
      if (!hub) return;
      const { instanceId, executionId } = await hub.client.createOrchestrationInstance('One');
      await eventually(
        'task scheduled',
        async () =>
          countType(await hub.client.getOrchestrationHistory(instanceId), 'TaskScheduled') === 1,
      );
      const stray = newEvent({ type: 'TaskCompleted', taskScheduledId: 99, result: '"stray"' });
      await hub.backend.client.sendOrchestrationMessage(
        taskMessage(stray, { instanceId, executionId }),
      );
      await delay(500);
      const mid = await hub.client.getOrchestrationState(instanceId);
      assert.equal(mid?.orchestrationStatus, 'Running', 'the stray result ended the instance');
      open.open();
      assert.equal(outputOf(await hub.wait(instanceId)), 'real');
    });
  });
}
