import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendFixtures } from '../support/backends.ts';
import { countType, delay, ofType, outputOf } from '../support/conformance-helpers.ts';
import { startHub } from '../support/hub-harness.ts';
import type { Orchestrator, Task } from '../support/runtime-api.ts';

// Cases that depend on replay run with extended sessions off (design.md 9.17):
// with a cached executor the orchestrator is never replayed.
const REPLAYING = { extendedSessions: false } as const;

const zeroTimer = (ctx: Parameters<Orchestrator>[0]) => ctx.createTimer(ctx.currentUtcDateTime);

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('[12] isReplaying flips after the last replayed event', async (t) => {
      const hub = await startHub(t, fixture, {
        workerOptions: REPLAYING,
        orchestrations: {
          Flags: function* (ctx) {
            const flags = [ctx.isReplaying];
            yield zeroTimer(ctx);
            flags.push(ctx.isReplaying);
            yield zeroTimer(ctx);
            flags.push(ctx.isReplaying);
            return flags;
          },
        },
      });
      if (!hub) return;
      assert.deepEqual(outputOf(await hub.run('Flags')), [true, true, false]);
    });

    it('[14] with extended sessions a factorial never observes isReplaying', async (t) => {
      const hub = await startHub(t, fixture, {
        workerOptions: { extendedSessions: true },
        orchestrations: {
          Factorial: function* (ctx, n: number) {
            let acc = 1;
            for (let i = 1; i <= n; i++) {
              if (ctx.isReplaying) throw new Error('replayed inside an extended session');
              acc = yield ctx.callActivity('Multiply', [acc, i]);
            }
            if (ctx.isReplaying) throw new Error('replayed inside an extended session');
            return acc;
          },
        },
        activities: { Multiply: (_ctx, [a, b]: [number, number]) => a * b },
      });
      if (!hub) return;
      assert.equal(outputOf(await hub.run('Factorial', { input: 10 })), 3628800);
    });

    it('[15] a decision made only when not replaying fails, naming its kind', async (t) => {
      const nonDet = (extra: (ctx: Parameters<Orchestrator>[0]) => Task): Orchestrator =>
        function* (ctx) {
          yield ctx.callActivity('Noop');
          // Runs only in the live pass; the episode after it replays without it.
          if (!ctx.isReplaying) yield extra(ctx);
          return 'unreachable';
        };
      const hub = await startHub(t, fixture, {
        workerOptions: REPLAYING,
        orchestrations: {
          ExtraTimer: nonDet((ctx) => zeroTimer(ctx)),
          ExtraActivity: nonDet((ctx) => ctx.callActivity('Noop')),
          ExtraChild: nonDet((ctx) => ctx.callSubOrchestration('Child')),
          Child: function* () {
            return 'child';
          },
          Parent: function* (ctx) {
            try {
              yield ctx.callSubOrchestration('ExtraTimer');
              return 'child did not fail';
            } catch (err) {
              return (err as Error).message;
            }
          },
        },
        activities: { Noop: () => null },
      });
      if (!hub) return;
      const [timer, activity, child, parent] = await Promise.all([
        hub.run('ExtraTimer'),
        hub.run('ExtraActivity'),
        hub.run('ExtraChild'),
        hub.run('Parent'),
      ]);
      for (const [state, kind] of [
        [timer, /timer/i],
        [activity, /activity/i],
        [child, /sub-?orchestration/i],
      ] as const) {
        assert.equal(state.orchestrationStatus, 'Failed', `${String(kind)}: ${state.output}`);
        assert.match(state.output ?? '', kind);
        assert.match(state.output ?? '', /non-?determinis|chang/i);
        assert.equal(state.failureDetails?.errorType, 'NonDeterminismError');
      }
      const message = outputOf(parent);
      assert.equal(typeof message, 'string');
      assert.match(message as string, /timer/i);
    });

    it('[16] another activity or sub-orchestration name on replay fails', async (t) => {
      const hub = await startHub(t, fixture, {
        workerOptions: REPLAYING,
        orchestrations: {
          RenamedActivity: function* (ctx) {
            yield ctx.callActivity(ctx.isReplaying ? 'Other' : 'Noop');
            return 'unreachable';
          },
          RenamedChild: function* (ctx) {
            yield ctx.callSubOrchestration(ctx.isReplaying ? 'ChildB' : 'ChildA');
            return 'unreachable';
          },
          ChildA: function* () {
            return 'a';
          },
          ChildB: function* () {
            return 'b';
          },
        },
        activities: { Noop: () => null, Other: () => null },
      });
      if (!hub) return;
      const [activity, child] = await Promise.all([
        hub.run('RenamedActivity'),
        hub.run('RenamedChild'),
      ]);
      assert.equal(activity.orchestrationStatus, 'Failed');
      assert.match(activity.output ?? '', /activity/i);
      assert.match(activity.output ?? '', /Noop|Other/);
      assert.equal(child.orchestrationStatus, 'Failed');
      assert.match(child.output ?? '', /sub-?orchestration/i);
      assert.match(child.output ?? '', /ChildA|ChildB/);
    });

    it('[17] an episode split by the message limit is invisible', async (t) => {
      const hub = await startHub(t, fixture, {
        backend: { maxMessagesPerCheckpoint: 80 },
        orchestrations: {
          Sum: function* (ctx) {
            const tasks = [];
            for (let i = 0; i < 200; i++) tasks.push(ctx.callActivity('Index', i));
            const values: number[] = yield ctx.whenAll(tasks);
            return values.reduce((a, b) => a + b, 0);
          },
        },
        activities: { Index: (_ctx, i: number) => i },
      });
      if (!hub) return;
      const state = await hub.run('Sum', undefined, 120_000);
      assert.equal(outputOf(state), 19900);
      const history = await hub.client.getOrchestrationHistory(
        state.orchestrationInstance.instanceId,
      );
      assert.equal(countType(history, 'TaskScheduled'), 200);
      assert.equal(countType(history, 'TaskCompleted'), 200);
      const ids = ofType(history, 'TaskScheduled')
        .map((e) => e.eventId)
        .sort((a, b) => a - b);
      assert.deepEqual(
        ids,
        Array.from({ length: 200 }, (_, i) => i),
      );
    });

    it('[18] a pending timer keeps the instance Running after its code returned', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Early: function* (ctx) {
            ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 2_000));
            return 'returned early';
          },
        },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('Early');
      await delay(800);
      const mid = await hub.client.getOrchestrationState(instanceId);
      assert.ok(
        mid && ['Pending', 'Running'].includes(mid.orchestrationStatus),
        `status before the timer fired: ${mid?.orchestrationStatus}`,
      );
      const done = await hub.wait(instanceId);
      assert.equal(outputOf(done), 'returned early');
      const history = await hub.client.getOrchestrationHistory(instanceId);
      const created = ofType(history, 'TimerCreated')[0];
      assert.ok(created, 'no TimerCreated recorded');
      const types = history.map((e) => e.type);
      assert.ok(types.indexOf('TimerFired') >= 0, 'completed without the timer firing');
      assert.ok(types.indexOf('TimerFired') < types.indexOf('ExecutionCompleted'));
      assert.ok(done.completedTime && done.completedTime.getTime() >= Date.parse(created.fireAt));
    });
  });
}
