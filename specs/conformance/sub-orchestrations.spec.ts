import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendFixtures } from '../support/backends.ts';
import { delay, eventually, outputOf } from '../support/conformance-helpers.ts';
import { startHub } from '../support/hub-harness.ts';
import type { Orchestrator } from '../support/runtime-api.ts';

const child: Orchestrator = function* (_ctx, i: number) {
  return `Child '${i}' completed.`;
};

const factorial: Orchestrator = function* (ctx, n: number) {
  let acc = 1;
  for (let i = 1; i <= n; i++) acc = yield ctx.callActivity('Multiply', [acc, i]);
  return acc;
};

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('[42] children in sequence and parallel; factorial; explicit id', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Child: child,
          Factorial: factorial,
          Echo: function* (_ctx, input: unknown) {
            return input;
          },
          Sequential: function* (ctx) {
            let out = '';
            for (let i = 0; i < 5; i++) out += yield ctx.callSubOrchestration('Child', i);
            return out;
          },
          Parallel: function* (ctx) {
            const tasks = [0, 1, 2, 3, 4].map((i) => ctx.callSubOrchestration('Child', i));
            const results: string[] = yield ctx.whenAll(tasks);
            return results.join('');
          },
          FactorialParent: function* (ctx) {
            return yield ctx.callSubOrchestration('Factorial', 10);
          },
          EchoParent: function* (ctx, input: unknown) {
            return yield ctx.callSubOrchestration('Echo', input, {
              instanceId: `${ctx.instanceId}_child`,
            });
          },
        },
        activities: { Multiply: (_ctx, [a, b]: [number, number]) => a * b },
      });
      if (!hub) return;
      const expected = [0, 1, 2, 3, 4].map((i) => `Child '${i}' completed.`).join('');
      const input = { deep: ['x', 1, null] };
      const [seq, par, fact, echo] = await Promise.all([
        hub.run('Sequential'),
        hub.run('Parallel'),
        hub.run('FactorialParent'),
        hub.run('EchoParent', { instanceId: 'echo-parent', input }),
      ]);
      assert.equal(outputOf(seq), expected);
      assert.equal(outputOf(par), expected);
      assert.equal(outputOf(fact), 3628800);
      assert.deepEqual(outputOf(echo), input);
      const echoChild = await hub.client.getOrchestrationState('echo-parent_child');
      assert.equal(echoChild?.orchestrationStatus, 'Completed');
      assert.equal(echoChild?.parentInstance?.orchestrationInstance.instanceId, 'echo-parent');
    });

    it('[43] a child failure reaches the parent with its inner cause', async (t) => {
      let childRuns = 0;
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Thrower: function* (ctx) {
            if (!ctx.isReplaying) childRuns++;
            throw new Error('Test');
          },
          CatchEach: function* (ctx) {
            try {
              for (let i = 0; i < 5; i++) yield ctx.callSubOrchestration('Thrower', i);
              return 'no failure';
            } catch (err) {
              const failure = (err as { failureDetails?: { errorMessage?: string } })
                .failureDetails;
              return failure?.errorMessage ?? 'no failure details';
            }
          },
          CatchParallel: function* (ctx) {
            try {
              yield ctx.whenAll([0, 1, 2, 3, 4].map((i) => ctx.callSubOrchestration('Thrower', i)));
              return 'no failure';
            } catch (err) {
              const failure = (err as { failureDetails?: { errorMessage?: string } })
                .failureDetails;
              return failure?.errorMessage ?? 'no failure details';
            }
          },
          Uncaught: function* (ctx) {
            yield ctx.callSubOrchestration('Thrower', 0, { instanceId: 'uncaught-child' });
            return 'no failure';
          },
        },
      });
      if (!hub) return;
      const each = await hub.run('CatchEach');
      assert.equal(outputOf(each), 'Test');
      assert.equal(childRuns, 1, 'await-each mode ran more than one child');
      const parallel = await hub.run('CatchParallel');
      assert.equal(outputOf(parallel), 'Test');
      await eventually('five parallel children to run', () => childRuns === 6);
      const uncaught = await hub.run('Uncaught');
      assert.equal(uncaught.orchestrationStatus, 'Failed');
      assert.match(uncaught.output ?? '', /Test/);
      const childState = await hub.client.getOrchestrationState('uncaught-child');
      assert.equal(childState?.orchestrationStatus, 'Failed');
      assert.match(childState?.output ?? '', /Test/);
    });

    it('[44] a child created with an explicit id observes it', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          WhoAmI: function* (ctx) {
            return ctx.instanceId;
          },
          Parent: function* (ctx) {
            return yield ctx.callSubOrchestration('WhoAmI', undefined, {
              instanceId: 'foo_instance',
              retry: { firstRetryIntervalMs: 100, maxNumberOfAttempts: 2 },
            });
          },
        },
      });
      if (!hub) return;
      assert.equal(outputOf(await hub.run('Parent')), 'foo_instance');
    });

    it('[F20] children of a parent with a 256-character id get valid default ids', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          WhoAmI: function* (ctx) {
            return ctx.instanceId;
          },
          Parent: function* (ctx) {
            const a: string = yield ctx.callSubOrchestration('WhoAmI');
            const b: string = yield ctx.callSubOrchestration('WhoAmI');
            return [a, b];
          },
        },
      });
      if (!hub) return;
      const parentId = `${'ü.*> '.repeat(50)}longid`;
      const done = await hub.run('Parent', { instanceId: parentId });
      assert.equal(done.orchestrationStatus, 'Completed');
      const [a, b] = outputOf(done) as [string, string];
      assert.notEqual(a, b);
      for (const id of [a, b]) {
        assert.ok([...id].length <= 256, `child id of ${[...id].length} code points`);
        const child = await hub.client.getOrchestrationState(id);
        assert.equal(child?.parentInstance?.orchestrationInstance.instanceId, parentId);
      }
    });

    it('[44] a failed child retried under its explicit id runs again (contract 3.9)', async (t) => {
      let attempts = 0;
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Flaky: function* () {
            attempts++;
            if (attempts === 1) throw new Error('the first attempt fails');
            return `attempt ${attempts}`;
          },
          Parent: function* (ctx) {
            return yield ctx.callSubOrchestration('Flaky', undefined, {
              instanceId: 'retried-child',
              retry: { firstRetryIntervalMs: 100, maxNumberOfAttempts: 3 },
            });
          },
        },
      });
      if (!hub) return;
      assert.equal(
        outputOf(await hub.run('Parent', { instanceId: 'retrying-parent' })),
        'attempt 2',
      );
      const runs = await hub.client.getOrchestrationStates('retried-child');
      assert.deepEqual(
        runs.map((s) => s.orchestrationStatus),
        ['Completed', 'Failed'],
      );
      assert.notEqual(
        runs[0]?.orchestrationInstance.executionId,
        runs[1]?.orchestrationInstance.executionId,
      );
    });

    it("[46] child tags merge over the parent's; activities see tags", async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          TagChild: function* (ctx) {
            const seen: Record<string, string> = yield ctx.callActivity('Tags');
            return { ctx: ctx.tags, activity: seen };
          },
          TagParent: function* (ctx) {
            const childView: unknown = yield ctx.callSubOrchestration('TagChild', undefined, {
              instanceId: 'tag-child',
              tags: { shared_tag: 'child value', child_tag: 'child' },
            });
            return { parent: ctx.tags, child: childView };
          },
        },
        activities: { Tags: (ctx) => ctx.tags },
      });
      if (!hub) return;
      const parentTags = { parent_tag: 'parent', shared_tag: 'parent value' };
      const childTags = { parent_tag: 'parent', shared_tag: 'child value', child_tag: 'child' };
      const done = await hub.run('TagParent', { instanceId: 'tag-parent', tags: parentTags });
      assert.deepEqual(outputOf(done), {
        parent: parentTags,
        child: { ctx: childTags, activity: childTags },
      });
      assert.deepEqual(done.tags, parentTags);
      const c = await hub.client.getOrchestrationState('tag-child');
      assert.deepEqual(c?.tags, childTags);
    });

    it('[47] recursive terminate reaches every descendant; plain terminate does not', async (t) => {
      let failingRuns = 0;
      const tree = (prefix: string) =>
        ({
          Root: function* (ctx) {
            yield ctx.whenAll(
              [0, 1, 2, 3, 4].map((i) =>
                ctx.callSubOrchestration('L1', undefined, { instanceId: `${prefix}-l1-${i}` }),
              ),
            );
            return 'root done';
          },
          L1: function* (ctx) {
            return yield ctx.callSubOrchestration('L2', undefined, {
              instanceId: `${ctx.instanceId}-l2`,
            });
          },
          L2: function* (ctx) {
            yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 4_000));
            return yield ctx.callActivity('Fail');
          },
        }) satisfies Record<string, Orchestrator>;
      const hub = await startHub(t, fixture, {
        orchestrations: tree('r'),
        activities: {
          Fail: () => {
            failingRuns++;
            throw new Error('should not run');
          },
        },
      });
      if (!hub) return;
      const ids = (p: string) => [
        p,
        ...[0, 1, 2, 3, 4].flatMap((i) => [`${p}-l1-${i}`, `${p}-l1-${i}-l2`]),
      ];
      await hub.client.createOrchestrationInstance('Root', { instanceId: 'r' });
      await eventually('all eleven instances running', async () => {
        const states = await Promise.all(
          ids('r').map((id) => hub.client.getOrchestrationState(id)),
        );
        return states.every((s) => s?.orchestrationStatus === 'Running');
      });
      await hub.client.terminate('r', 'stop all', { recursive: true });
      for (const id of ids('r')) {
        const s = await hub.wait(id);
        assert.equal(s.orchestrationStatus, 'Terminated', `${id} is ${s.orchestrationStatus}`);
      }
      await delay(4_500);
      assert.equal(failingRuns, 0, 'the activity ran after a recursive terminate');
    });

    it('[47] plain terminate spares children; recursive purge removes them', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Root: function* (ctx) {
            yield ctx.whenAll(
              [0, 1].map((i) =>
                ctx.callSubOrchestration('L1', undefined, {
                  instanceId: `${ctx.instanceId}-l1-${i}`,
                }),
              ),
            );
            return 'root done';
          },
          L1: function* (ctx) {
            return yield ctx.callSubOrchestration('L2', undefined, {
              instanceId: `${ctx.instanceId}-l2`,
            });
          },
          L2: function* (ctx) {
            yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 1_500));
            return 'leaf';
          },
        },
      });
      if (!hub) return;
      const descendants = (p: string) => [0, 1].flatMap((i) => [`${p}-l1-${i}`, `${p}-l1-${i}-l2`]);
      await hub.client.createOrchestrationInstance('Root', { instanceId: 'plain' });
      await eventually(
        'children running',
        async () =>
          (await hub.client.getOrchestrationState('plain-l1-1-l2'))?.orchestrationStatus ===
          'Running',
      );
      await hub.client.terminate('plain', 'stop root only');
      assert.equal((await hub.wait('plain')).orchestrationStatus, 'Terminated');
      for (const id of descendants('plain')) {
        assert.equal((await hub.wait(id)).orchestrationStatus, 'Completed', id);
      }

      const root = await hub.run('Root', { instanceId: 'deep' });
      assert.equal(outputOf(root), 'root done');
      const keep = await hub.run('Root', { instanceId: 'shallow' });
      assert.equal(outputOf(keep), 'root done');
      const deep = await hub.client.purgeInstance('deep', { recursive: true });
      assert.equal(deep.deletedInstanceCount, 5);
      for (const id of ['deep', ...descendants('deep')]) {
        assert.equal(await hub.client.getOrchestrationState(id), null, `${id} survived the purge`);
      }
      const shallow = await hub.client.purgeInstance('shallow');
      assert.equal(shallow.deletedInstanceCount, 1);
      assert.equal(await hub.client.getOrchestrationState('shallow'), null);
      for (const id of descendants('shallow')) {
        assert.equal(
          (await hub.client.getOrchestrationState(id))?.orchestrationStatus,
          'Completed',
        );
      }
    });
  });
}
