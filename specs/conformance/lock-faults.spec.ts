import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionAbortedError } from '../../src/core/errors.ts';
import type { OrchestrationMiddleware } from '../../src/runtime/index.ts';
import { backendFixtures, itWithHooks } from '../support/backends.ts';
import { countType, delay, gate, outputOf } from '../support/conformance-helpers.ts';
import { startHub } from '../support/hub-harness.ts';
import type { Activity, Orchestrator } from '../support/runtime-api.ts';

// Runtime-level lock cases: faults injected through backend options (cases 74,
// 76), lease renewal under long work (77) and session aborts (80).

const greet: Orchestrator = function* (ctx, name: string) {
  return yield ctx.callActivity('SayHello', name);
};

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    itWithHooks(
      fixture,
      ['beforeCheckpoint'],
      '[74] a failed first checkpoint commits nothing; the checkpoint runs exactly twice',
      async (t) => {
        let checkpoints = 0;
        const hub = await startHub(t, fixture, {
          backend: {
            orchestrationLockMs: 2_000,
            faults: {
              beforeCheckpoint: () => {
                checkpoints++;
                if (checkpoints === 1) throw new Error('injected checkpoint fault');
              },
            },
          },
          orchestrations: { Hello: (_ctx, name: string) => `Hello, ${name}!` },
        });
        if (!hub) return;
        const state = await hub.run('Hello', { instanceId: 'retried', input: 'World' });
        assert.equal(outputOf(state), 'Hello, World!');
        assert.equal(checkpoints, 2);
        const history = await hub.client.getOrchestrationHistory('retried');
        assert.equal(countType(history, 'ExecutionStarted'), 1);
        assert.equal(countType(history, 'ExecutionCompleted'), 1);
      },
    );

    itWithHooks(
      fixture,
      ['beforeCheckpoint', 'failOrchestrationRenewals'],
      '[78] a stalled checkpoint whose lock lapsed is fenced off after another commit',
      async (t) => {
        const release = gate();
        t.after(() => release.open());
        let checkpoints = 0;
        const hub = await startHub(t, fixture, {
          backend: {
            orchestrationLockMs: 1_000,
            faults: {
              failOrchestrationRenewals: 1_000,
              beforeCheckpoint: async () => {
                if (++checkpoints === 1) await release.wait(30_000);
              },
            },
          },
          orchestrations: { Hello: (ctx, name: string) => `Hello, ${name}! (${ctx.executionId})` },
        });
        if (!hub) return;
        const state = await hub.run('Hello', { instanceId: 'fenced', input: 'World' });
        const output = outputOf(state);
        const before = await hub.client.getOrchestrationHistory('fenced');
        release.open();
        await delay(500);
        assert.equal(checkpoints, 2);
        const after = await hub.client.getOrchestrationState('fenced');
        assert.equal(outputOf(after!), output);
        assert.equal(after?.lastUpdatedTime.getTime(), state.lastUpdatedTime.getTime());
        const history = await hub.client.getOrchestrationHistory('fenced');
        assert.deepEqual(history, before, 'the stale checkpoint changed the history');
        assert.equal(countType(history, 'ExecutionCompleted'), 1);
      },
    );

    itWithHooks(
      fixture,
      ['failActivityCompletions'],
      '[76] an activity completion that throws once is redelivered and run again',
      async (t) => {
        let runs = 0;
        const hub = await startHub(t, fixture, {
          backend: { activityLockMs: 1_500, faults: { failActivityCompletions: 1 } },
          orchestrations: { Greet: greet },
          activities: {
            SayHello: (_ctx, name: string) => {
              runs++;
              return `Hello, ${name}!`;
            },
          },
        });
        if (!hub) return;
        const state = await hub.run('Greet', { instanceId: 'act-retry', input: 'World' });
        assert.equal(outputOf(state), 'Hello, World!');
        assert.equal(runs, 2, 'the activity was not run again after its completion failed');
        const history = await hub.client.getOrchestrationHistory('act-retry');
        assert.equal(countType(history, 'TaskCompleted'), 1);
      },
    );

    itWithHooks(
      fixture,
      ['beforeActivityCompletion', 'failActivityRenewals'],
      '[76] a hung completion loses its lock; a second worker completes; the late one is rejected',
      async (t) => {
        const release = gate();
        let stalled = 0;
        const deliveries: number[] = [];
        const sayHello: Activity = (ctx, name: string) => {
          deliveries.push(ctx.deliveryCount);
          return `Hello, ${name}! (delivery ${ctx.deliveryCount})`;
        };
        const hub = await startHub(t, fixture, {
          backend: {
            activityLockMs: 1_000,
            faults: {
              failActivityRenewals: 1_000,
              beforeActivityCompletion: async () => {
                if (stalled++ === 0) await release.wait(30_000);
              },
            },
          },
          workerOptions: { maxConcurrentActivities: 1 },
          orchestrations: { Greet: greet },
          activities: { SayHello: sayHello },
        });
        if (!hub) return;
        t.after(() => release.open());
        const { instanceId } = await hub.client.createOrchestrationInstance('Greet', {
          instanceId: 'hung',
          input: 'World',
        });
        await hub.addWorker({
          activities: { SayHello: sayHello },
          orchestrations: { Greet: greet },
        });
        const done = await hub.wait(instanceId);
        assert.equal(outputOf(done), 'Hello, World! (delivery 2)');
        release.open();
        await delay(500);
        assert.deepEqual(deliveries, [1, 2]);
        const after = await hub.client.getOrchestrationState(instanceId);
        assert.equal(outputOf(after!), 'Hello, World! (delivery 2)');
        const history = await hub.client.getOrchestrationHistory(instanceId);
        assert.equal(countType(history, 'TaskCompleted'), 1, 'the stale completion was applied');
      },
    );

    it('[77] renewals keep a long episode and a long activity with one holder', async (t) => {
      let startEpisodes = 0;
      let activityRuns = 0;
      const slowStart: OrchestrationMiddleware = async (ctx, next) => {
        if (
          ctx.name === 'Slow' &&
          ctx.runtimeState.pastEvents.length === 0 &&
          ctx.runtimeState.newEvents.some((e) => e.type === 'ExecutionStarted' && e.input === '0')
        ) {
          startEpisodes++;
          await delay(5_000);
        }
        return next();
      };
      const hub = await startHub(t, fixture, {
        backend: { orchestrationLockMs: 1_500, activityLockMs: 1_500 },
        workerOptions: { orchestrationMiddleware: [slowStart] },
        orchestrations: {
          Slow: function* (ctx, n: number) {
            if (n === 0) {
              ctx.continueAsNew(1);
              return;
            }
            return 'ok';
          },
          LongActivity: function* (ctx) {
            return yield ctx.callActivity('Long');
          },
        },
        activities: {
          Long: async () => {
            activityRuns++;
            await delay(5_000);
            return 'long done';
          },
        },
      });
      if (!hub) return;
      const [slow, long] = await Promise.all([
        hub.run('Slow', { input: 0 }),
        hub.run('LongActivity'),
      ]);
      assert.equal(outputOf(slow), 'ok');
      assert.equal(startEpisodes, 1, 'the long episode lost its lock and ran again');
      assert.equal(outputOf(long), 'long done');
      assert.equal(activityRuns, 1, 'the long activity lost its lock and ran again');
    });

    it('[80] a session abort in orchestrator or activity is retried, never seen', async (t) => {
      let orchestratorAborts = 0;
      let activityAborts = 0;
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Aborting: function* (ctx) {
            if (orchestratorAborts === 0) {
              orchestratorAborts++;
              throw new SessionAbortedError('orchestrator aborts its first run');
            }
            const r: boolean = yield ctx.callActivity('Aborting');
            return r ? 'True' : 'False';
          },
        },
        activities: {
          Aborting: () => {
            if (activityAborts === 0) {
              activityAborts++;
              throw new SessionAbortedError('activity aborts its first run');
            }
            return true;
          },
        },
      });
      if (!hub) return;
      const state = await hub.run('Aborting', { instanceId: 'aborting' });
      assert.equal(outputOf(state), 'True');
      assert.equal(orchestratorAborts, 1);
      assert.equal(activityAborts, 1);
      const history = await hub.client.getOrchestrationHistory('aborting');
      assert.equal(countType(history, 'TaskFailed'), 0);
    });
  });
}
