import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend } from '../../src/core/backend.ts';
import type { DeadLetter, DeadLetterQuery } from '../../src/core/dead-letter.ts';
import { POISON_ERROR_TYPE } from '../../src/core/dead-letter.ts';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import type { ActivityMiddleware, OrchestrationMiddleware } from '../../src/runtime/index.ts';
import { backendFixtures } from '../support/backends.ts';
import { eventually, outputOf } from '../support/conformance-helpers.ts';
import { startHub } from '../support/hub-harness.ts';
import {
  checkpoint,
  createInstance,
  EMPTY_RECEIVE_MS,
  lockActivity,
  lockOrchestration,
  scheduleActivity,
  startService,
} from '../support/service-harness.ts';

// Poison handling (design 4, 9.15): a message whose deliveries failed
// `maxDeliveries` times is dead-lettered, removed from its queue, and the
// instance that waited on it gets a failure it can see and handle.

const LIMIT = 3;
const POISON = { extra: { maxDeliveries: LIMIT } };

function deadLetters(b: Backend, query?: DeadLetterQuery): Promise<DeadLetter[]> {
  const list = b.client.listDeadLetters;
  assert.ok(list, `the ${b.kind} client cannot list dead letters`);
  return list.call(b.client, query);
}

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('should dead-letter an event that kept failing, and fail its instance', async (t) => {
      const b = await startService(t, fixture, POISON);
      if (!b) return;
      await createInstance(b, 'poisoned', 'Waiter');
      const first = await lockOrchestration(b);
      assert.ok(first);
      await checkpoint(b, first);
      await b.service.releaseOrchestrationWorkItem(first);
      await b.client.sendOrchestrationMessage(
        taskMessage(newEvent({ type: 'EventRaised', name: 'Bad', input: '1' }), {
          instanceId: 'poisoned',
        }),
      );
      for (let i = 0; i < LIMIT; i++) {
        const wi = await lockOrchestration(b);
        assert.ok(wi, `delivery ${i + 1} of the event did not come`);
        assert.deepEqual(wi.newMessages.map((m) => m.event.type), ['EventRaised']);
        await b.service.abandonOrchestrationWorkItem(wi);
        await b.service.releaseOrchestrationWorkItem(wi);
      }
      assert.equal(await lockOrchestration(b, EMPTY_RECEIVE_MS), null, 'delivered past the limit');

      const state = await eventually('the instance failed', async () => {
        const [s] = await b.client.getOrchestrationState('poisoned');
        return s?.orchestrationStatus === 'Failed' ? s : undefined;
      });
      assert.equal(state.failureDetails?.errorType, POISON_ERROR_TYPE);
      assert.equal(state.failureDetails?.properties?.['code'], 'POISON_MESSAGE');
      assert.match(state.output ?? '', /EventRaised.*failed 3 deliveries \(limit 3\)/);
      const dead = await deadLetters(b, { instanceId: 'poisoned' });
      assert.deepEqual(
        dead.map((d) => [d.kind, d.eventType, d.deliveries, d.instanceId]),
        [['orchestration', 'EventRaised', LIMIT, 'poisoned']],
      );
      assert.match(dead[0]?.reason ?? '', /limit 3/);
      const ev = dead[0]?.message.event;
      assert.ok(ev?.type === 'EventRaised');
      assert.equal(ev.name, 'Bad');
    });

    it('should not count abandons of work this worker does not handle', async (t) => {
      const b = await startService(t, fixture, POISON);
      if (!b) return;
      await createInstance(b, 'unhandled', 'Nobody');
      for (let i = 0; i < LIMIT + 1; i++) {
        const wi = await lockOrchestration(b);
        assert.ok(wi, `delivery ${i + 1} did not come`);
        await b.service.abandonOrchestrationWorkItem(wi, { reason: 'not-handled' });
        await b.service.releaseOrchestrationWorkItem(wi);
      }
      const wi = await lockOrchestration(b);
      assert.ok(wi, 'the start was dead-lettered');
      assert.equal(wi.newMessages[0]?.event.type, 'ExecutionStarted');
      assert.deepEqual(await deadLetters(b), []);
    });

    it('should count work items whose lock lapsed (a worker that died holding it)', async (t) => {
      const b = await startService(t, fixture, { ...POISON, orchestrationLockMs: 1_000 });
      if (!b) return;
      await createInstance(b, 'lapsing', 'Crasher');
      for (let i = 0; i < LIMIT; i++) {
        const wi = await lockOrchestration(b);
        assert.ok(wi, `delivery ${i + 1} did not come after the lock lapsed`);
      }
      assert.equal(await lockOrchestration(b, 3_000), null, 'delivered past the limit');
      const state = await eventually('the instance failed', async () => {
        const [s] = await b.client.getOrchestrationState('lapsing');
        return s?.orchestrationStatus === 'Failed' ? s : undefined;
      });
      assert.match(state.output ?? '', /ExecutionStarted.*failed 3 deliveries/);
      const history = await b.client.getOrchestrationHistory('lapsing');
      assert.deepEqual(history.map((e) => e.type), [
        'OrchestratorStarted', 'ExecutionStarted', 'ExecutionCompleted', 'OrchestratorCompleted',
      ]);
    });

    it('should answer an activity that kept failing with a TaskFailed', async (t) => {
      const b = await startService(t, fixture, POISON);
      if (!b) return;
      await scheduleActivity(b, 'act-poison', 'Crash');
      for (let i = 0; i < LIMIT; i++) {
        const a = await lockActivity(b);
        assert.ok(a, `delivery ${i + 1} of the activity did not come`);
        assert.equal(a.deliveryCount, i + 1);
        await b.service.abandonActivityWorkItem(a);
      }
      const next = await lockOrchestration(b);
      assert.ok(next, 'the orchestration was not told');
      const failed = next.newMessages[0]?.event;
      assert.ok(failed?.type === 'TaskFailed');
      assert.equal(failed.taskScheduledId, 0);
      assert.equal(failed.failureDetails?.errorType, POISON_ERROR_TYPE);
      assert.equal(failed.failureDetails?.isNonRetriable, true);
      assert.match(failed.failureDetails?.errorMessage ?? '', /Activity 'Crash' \(task #0\)/);
      assert.equal(await lockActivity(b, EMPTY_RECEIVE_MS), null);
      const dead = await deadLetters(b, { instanceId: 'act-poison' });
      assert.deepEqual(
        dead.map((d) => [d.kind, d.eventType, d.deliveries]),
        [['activity', 'TaskScheduled', LIMIT]],
      );
    });

    it('should not count abandons of an activity this worker does not run', async (t) => {
      const b = await startService(t, fixture, POISON);
      if (!b) return;
      const owner = await scheduleActivity(b, 'act-unhandled', 'Elsewhere');
      for (let i = 0; i < LIMIT + 1; i++) {
        const a = await lockActivity(b);
        assert.ok(a, `delivery ${i + 1} of the activity did not come`);
        assert.equal(a.deliveryCount, i + 1);
        await b.service.abandonActivityWorkItem(a, { reason: 'not-handled' });
      }
      const a = await lockActivity(b);
      assert.ok(a, 'the activity was dead-lettered');
      assert.equal(a.deliveryCount, LIMIT + 2);
      assert.deepEqual(await deadLetters(b), []);
      await b.service.completeActivityWorkItem(a, taskMessage(
        newEvent({ type: 'TaskCompleted', taskScheduledId: 0, result: '"ran"' }), owner));
      const next = await lockOrchestration(b);
      assert.deepEqual(next?.newMessages.map((m) => m.event.type), ['TaskCompleted']);
    });

    it('should let an orchestration catch the failure of a poison activity', async (t) => {
      const crash: ActivityMiddleware = async (ctx, next) => {
        if (ctx.name === 'Crash') throw new Error('the worker cannot run this');
        return next();
      };
      const hub = await startHub(t, fixture, {
        backend: POISON,
        workerOptions: { activityMiddleware: [crash] },
        orchestrations: {
          Careful: function* (ctx) {
            try {
              yield ctx.callActivity('Crash');
              return 'ran';
            } catch (err) {
              return (err as { failureDetails?: { errorType?: string } }).failureDetails
                ?.errorType;
            }
          },
        },
        activities: { Crash: () => 'never' },
      });
      if (!hub) return;
      const state = await hub.run('Careful', { instanceId: 'careful' });
      assert.equal(outputOf(state), POISON_ERROR_TYPE);
      const dead = await hub.client.listDeadLetters({ instanceId: 'careful' });
      assert.deepEqual(dead.map((d) => [d.kind, d.eventType]), [['activity', 'TaskScheduled']]);
    });

    it('should fail a sub-orchestration that keeps failing, and tell its parent', async (t) => {
      const crash: OrchestrationMiddleware = async (ctx, next) => {
        if (ctx.name === 'Child') throw new Error('this episode always fails');
        return next();
      };
      const hub = await startHub(t, fixture, {
        backend: POISON,
        workerOptions: { orchestrationMiddleware: [crash] },
        orchestrations: {
          Parent: function* (ctx) {
            try {
              yield ctx.callSubOrchestration('Child', undefined, { instanceId: 'child' });
              return 'child completed';
            } catch (err) {
              return (err as Error).message;
            }
          },
          Child: function* () {
            return 'never';
          },
        },
      });
      if (!hub) return;
      const parent = await hub.run('Parent', { instanceId: 'parent' });
      assert.match(String(outputOf(parent)), /moved to the dead letters/);
      const child = await hub.wait('child');
      assert.equal(child.orchestrationStatus, 'Failed');
      assert.equal(child.failureDetails?.errorType, POISON_ERROR_TYPE);
      const dead = await deadLetters(hub.backend, { instanceId: 'child' });
      assert.deepEqual(dead.map((d) => d.eventType), ['ExecutionStarted']);
    });
  });
}
