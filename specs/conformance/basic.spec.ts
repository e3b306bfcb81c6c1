import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendFixtures } from '../support/backends.ts';
import { delay, ofType, outputOf, payload } from '../support/conformance-helpers.ts';
import { startHub } from '../support/hub-harness.ts';
import { newEvent } from '../../src/core/history-event.ts';
import type { ActivityMiddleware, OrchestrationMiddleware } from '../../src/runtime/index.ts';
import type { Activity, Orchestrator } from '../support/runtime-api.ts';

const sayHello: Activity = (_ctx, name: string) => `Hello, ${name}!`;

/** Forces a final status on every `Forced*` instance without running any orchestrator. */
const forceStatus: OrchestrationMiddleware = async (ctx, next) => {
  const status = /^Forced(Completed|Failed|Terminated)$/.exec(ctx.name)?.[1];
  if (status === undefined) return next();
  ctx.result = {
    actions: [
      {
        kind: 'completeOrchestration',
        id: 0,
        status: status as 'Completed',
        ...(status === 'Failed'
          ? {
              failureDetails: { errorType: 'Forced', errorMessage: 'forced', isNonRetriable: true },
            }
          : { result: JSON.stringify(`forced ${status}`) }),
      },
    ],
    customStatus: JSON.stringify('custom'),
  };
};

/** Runs `Fake` instances: one activity call on the start, then its result as output. */
const fakeOrchestration: OrchestrationMiddleware = async (ctx, next) => {
  if (ctx.name !== 'Fake') return next();
  const done = ctx.runtimeState.events.find((e) => e.type === 'TaskCompleted');
  ctx.result =
    done?.type === 'TaskCompleted'
      ? {
          actions: [
            { kind: 'completeOrchestration', id: 1, status: 'Completed', result: done.result },
          ],
        }
      : {
          actions: [
            {
              kind: 'scheduleTask',
              id: 0,
              name: 'FakeActivity',
              version: 'FakeActivityVersion',
              input: JSON.stringify('SomeInput'),
            },
          ],
        };
};

/** Answers every activity with "name,version,input" without running it. */
const fakeActivity: ActivityMiddleware = async (ctx) => {
  const input = ctx.input === undefined ? '' : (JSON.parse(ctx.input) as string);
  ctx.response = newEvent({
    type: 'TaskCompleted',
    taskScheduledId: ctx.taskId,
    result: JSON.stringify(`${ctx.name},${ctx.version},${input}`),
  });
};

const greet: Orchestrator = function* (ctx, name: string) {
  const r: string = yield ctx.callActivity('SayHello', name);
  return r;
};

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('[1] inline and empty orchestrations complete', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Inline: function* (_ctx, input: string) {
            return `Hello, ${input}!`;
          },
          Empty: function* () {
            /* no actions */
          },
        },
      });
      if (!hub) return;
      const [inline, empty] = await Promise.all([
        hub.run('Inline', { input: 'World' }),
        hub.run('Empty'),
      ]);
      assert.equal(outputOf(inline), 'Hello, World!');
      assert.equal(payload(inline.input), 'World');
      assert.equal(empty.orchestrationStatus, 'Completed');
      assert.ok(empty.lastUpdatedTime.getTime() >= empty.createdTime.getTime());
    });

    it('[2] a single activity greets its input, UTF-8 safe', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: { Greet: greet },
        activities: { SayHello: sayHello },
      });
      if (!hub) return;
      const [world, sekai] = await Promise.all([
        hub.run('Greet', { input: 'World' }),
        hub.run('Greet', { input: '世界' }),
      ]);
      assert.equal(outputOf(world), 'Hello, World!');
      assert.equal(outputOf(sekai), 'Hello, 世界!');
    });

    it('[3] two chained activities', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          SendGreeting: function* (ctx) {
            const user: string = yield ctx.callActivity('GetUser');
            const text: string = yield ctx.callActivity('SendGreeting', user);
            return text;
          },
        },
        activities: {
          GetUser: () => 'Gabbar',
          SendGreeting: (_ctx, user: string) => `Greeting send to ${user}`,
        },
      });
      if (!hub) return;
      assert.equal(outputOf(await hub.run('SendGreeting')), 'Greeting send to Gabbar');
    });

    it('[4] sequential chains: factorial(10) and ten plus-ones', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Factorial: function* (ctx, n: number) {
            let acc = 1;
            for (let i = 1; i <= n; i++) acc = yield ctx.callActivity('Multiply', [acc, i]);
            return acc;
          },
          Count: function* (ctx) {
            let v = 0;
            for (let i = 0; i < 10; i++) v = yield ctx.callActivity('PlusOne', v);
            return v;
          },
        },
        activities: {
          Multiply: (_ctx, [a, b]: [number, number]) => a * b,
          PlusOne: (_ctx, v: number) => v + 1,
        },
      });
      if (!hub) return;
      const [fact, count] = await Promise.all([
        hub.run('Factorial', { input: 10 }),
        hub.run('Count', { input: 0 }),
      ]);
      assert.equal(outputOf(fact), 3628800);
      assert.equal(payload(fact.input), 10);
      assert.equal(outputOf(count), 10);
    });

    it('[5] fan-out / fan-in: ten activities really run in parallel', async (t) => {
      let inFlight = 0;
      let maxInFlight = 0;
      const hub = await startHub(t, fixture, {
        orchestrations: {
          FanOut: function* (ctx) {
            const tasks = [];
            for (let i = 0; i < 10; i++) tasks.push(ctx.callActivity('Work', i));
            const results: string[] = yield ctx.whenAll(tasks);
            return [...results].sort().reverse();
          },
        },
        activities: {
          // Each activity waits (bounded) until all ten run at once: parallelism
          // is asserted by count, not by elapsed time.
          Work: async (_ctx, i: number) => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            for (let n = 0; n < 100 && maxInFlight < 10; n++) await delay(100);
            await delay(200);
            inFlight--;
            return String(i);
          },
        },
      });
      if (!hub) return;
      const state = await hub.run('FanOut');
      assert.deepEqual(outputOf(state), ['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
      assert.equal(maxInFlight, 10, 'the ten activities did not run in parallel');
    });

    it('[6] a 1000-way fan-out completes', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Wide: function* (ctx) {
            const tasks = [];
            for (let i = 0; i < 1_000; i++) tasks.push(ctx.callActivity('Echo', i));
            const r: number[] = yield ctx.whenAll(tasks);
            return r.every((v, i) => v === i) ? 'Done' : 'out of order';
          },
        },
        activities: { Echo: (_ctx, i: number) => i },
      });
      if (!hub) return;
      assert.equal(outputOf(await hub.run('Wide', undefined, 300_000)), 'Done');
    });

    it('[8] a history of ninety ~50 KB results is stored and read back', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Big: function* (ctx) {
            const tasks = [];
            for (let i = 0; i < 90; i++)
              tasks.push(ctx.callActivity('Echo', `${i}:`.padEnd(50_000, 'x')));
            const r: string[] = yield ctx.whenAll(tasks);
            return r.reduce(
              (n, v, i) => n + (v.startsWith(`${i}:`) && v.length === 50_000 ? 1 : 0),
              0,
            );
          },
        },
        activities: { Echo: (_ctx, s: string) => s },
      });
      if (!hub) return;
      const state = await hub.run('Big', { instanceId: 'big' }, 180_000);
      assert.equal(outputOf(state), 90);
      const history = await hub.client.getOrchestrationHistory('big');
      const results = ofType(history, 'TaskCompleted');
      assert.equal(results.length, 90);
      assert.ok(results.every((e) => (e.result ?? '').length >= 50_000));
    });

    it('[9] custom status is stored, including a JSON null', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Status: function* (ctx, clear: boolean) {
            ctx.setCustomStatus('custom_status');
            yield ctx.createTimer(ctx.currentUtcDateTime);
            if (clear) {
              ctx.setCustomStatus(null);
              yield ctx.createTimer(ctx.currentUtcDateTime);
            }
            return 'done';
          },
        },
      });
      if (!hub) return;
      const [set, cleared] = await Promise.all([
        hub.run('Status', { input: false }),
        hub.run('Status', { input: true }),
      ]);
      assert.equal(outputOf(set), 'done');
      assert.equal(set.customStatus, '"custom_status"');
      assert.equal(outputOf(cleared), 'done');
      assert.equal(cleared.customStatus, 'null');
    });

    it('[11] middleware replaces the executor: forced statuses and a fake activity', async (t) => {
      const hub = await startHub(t, fixture, {
        workerOptions: {
          orchestrationMiddleware: [forceStatus, fakeOrchestration],
          activityMiddleware: [fakeActivity],
        },
      });
      if (!hub) return;
      const [completed, failed, terminated, fake] = await Promise.all([
        hub.run('ForcedCompleted'),
        hub.run('ForcedFailed'),
        hub.run('ForcedTerminated'),
        hub.run('Fake'),
      ]);
      assert.equal(outputOf(completed), 'forced Completed');
      assert.equal(failed.orchestrationStatus, 'Failed');
      assert.equal(failed.failureDetails?.errorType, 'Forced');
      assert.equal(outputOf(terminated, 'Terminated'), 'forced Terminated');
      for (const s of [completed, failed, terminated]) assert.equal(s.customStatus, '"custom"');
      assert.equal(outputOf(fake), 'FakeActivity,FakeActivityVersion,SomeInput');
    });

    it('[10] tags are on the status record after creation and after completion', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: { Greet: greet },
        activities: { SayHello: sayHello },
        startWorker: false,
      });
      if (!hub) return;
      const tags = { tag1: 'value1', tag2: 'value2' };
      const { instanceId } = await hub.client.createOrchestrationInstance('Greet', {
        input: 'T',
        tags,
      });
      const created = await hub.client.getOrchestrationState(instanceId);
      assert.deepEqual(created?.tags, tags);
      await hub.start();
      const done = await hub.wait(instanceId);
      assert.equal(outputOf(done), 'Hello, T!');
      assert.deepEqual(done.tags, tags);
    });
  });
}
