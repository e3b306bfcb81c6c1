import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { backendFixtures } from '../support/backends.ts';
import {
  countType,
  delay,
  eventually,
  ofType,
  outputOf,
  rejectsWithCode,
} from '../support/conformance-helpers.ts';
import { startHub } from '../support/hub-harness.ts';
import { leftoverMessages } from '../support/leftovers.ts';
import { SimClock } from '../support/sim-clock.ts';
import type { OrchestrationContext, Orchestrator } from '../support/runtime-api.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const after = (ctx: OrchestrationContext, ms: number) =>
  new Date(ctx.currentUtcDateTime.getTime() + ms);

const waitForever: Orchestrator = function* (ctx) {
  return yield ctx.waitForExternalEvent('never');
};

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('[F3] whenAll([]) is [] at once; whenAny([]) is refused at the call', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          EmptyAll: function* (ctx) {
            return yield ctx.whenAll([]);
          },
          EmptyAny: function* (ctx) {
            try {
              ctx.whenAny([]);
              return 'accepted';
            } catch (err) {
              return (err as Error).message;
            }
          },
        },
      });
      if (!hub) return;
      const [all, any] = await Promise.all([hub.run('EmptyAll'), hub.run('EmptyAny')]);
      assert.deepEqual(outputOf(all), []);
      const message = outputOf(any);
      assert.notEqual(message, 'accepted');
      assert.match(String(message), /whenAny|empty/i);
    });

    it('[F4] whenAll fails fast once; late completions change nothing', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          FailFast: function* (ctx) {
            let caught = 'none';
            try {
              yield ctx.whenAll([
                ctx.callActivity('Slow', 1),
                ctx.callActivity('Fail'),
                ctx.callActivity('Slow', 2),
              ]);
            } catch (err) {
              caught =
                (err as { failureDetails?: { errorMessage?: string } }).failureDetails
                  ?.errorMessage ?? String(err);
            }
            // Let the two late results arrive before finishing.
            yield ctx.createTimer(after(ctx, 1_500));
            return caught;
          },
        },
        activities: {
          Slow: async (_ctx, n: number) => {
            await delay(400);
            return n;
          },
          Fail: () => {
            throw new Error('one of three failed');
          },
        },
      });
      if (!hub) return;
      const state = await hub.run('FailFast', { instanceId: 'fail-fast' });
      assert.equal(outputOf(state), 'one of three failed');
      const history = await hub.client.getOrchestrationHistory('fail-fast');
      assert.equal(countType(history, 'TaskFailed'), 1);
      assert.equal(countType(history, 'TaskCompleted'), 2);
      assert.equal(countType(history, 'ExecutionCompleted'), 1);
    });

    it('[F5] nested composites: the inner whenAll beats an hour-long timer', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Nested: function* (ctx) {
            const both = ctx.whenAll([
              ctx.waitForExternalEvent('A'),
              ctx.waitForExternalEvent('B'),
            ]);
            const timer = ctx.createTimer(after(ctx, 60 * 60 * 1000));
            const winner = yield ctx.whenAny([both, timer]);
            if (winner !== both) return 'timer won';
            timer.cancel();
            return both.result;
          },
        },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('Nested');
      await hub.client.raiseEvent(instanceId, 'A', 'a');
      await delay(300);
      await hub.client.raiseEvent(instanceId, 'B', 'b');
      const state = await hub.wait(instanceId);
      assert.deepEqual(outputOf(state), ['a', 'b']);
    });

    it('[F7] an event beats a seven-day timer; no TimerFired is recorded', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          FarTimer: function* (ctx) {
            const timer = ctx.createTimer(after(ctx, 7 * DAY_MS));
            const go = ctx.waitForExternalEvent('go');
            const winner = yield ctx.whenAny([timer, go]);
            if (winner === go) timer.cancel();
            return winner === go ? 'event' : 'timer';
          },
        },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('FarTimer');
      await eventually(
        'running',
        async () =>
          (await hub.client.getOrchestrationState(instanceId))?.orchestrationStatus === 'Running',
      );
      await hub.client.raiseEvent(instanceId, 'go');
      assert.equal(outputOf(await hub.wait(instanceId)), 'event');
      const history = await hub.client.getOrchestrationHistory(instanceId);
      assert.equal(countType(history, 'EventRaised'), 1);
      assert.equal(countType(history, 'TimerFired'), 0);
    });

    it('[F9] terminate during an activity: late result discarded, no rerun', async (t) => {
      let runs = 0;
      let finished = 0;
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Slow: function* (ctx) {
            return yield ctx.callActivity('Work');
          },
        },
        activities: {
          Work: async () => {
            runs++;
            await delay(2_000);
            finished++;
            return 'late';
          },
        },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('Slow');
      await eventually('activity started', () => runs === 1);
      assert.ok((await leftoverMessages(hub.backend, instanceId)) >= 1, 'the running activity');
      await hub.client.terminate(instanceId, 'stop now');
      const state = await hub.wait(instanceId);
      assert.equal(outputOf(state, 'Terminated'), 'stop now');
      await eventually('activity finished', () => finished === 1);
      await delay(1_500);
      assert.equal(runs, 1, 'the activity ran again');
      const after = await hub.client.getOrchestrationState(instanceId);
      assert.equal(after?.orchestrationStatus, 'Terminated');
      assert.equal(after?.output, state.output);
      const history = await hub.client.getOrchestrationHistory(instanceId);
      assert.equal(countType(history, 'TaskCompleted'), 0, 'late result entered history');
      await eventually(
        'no message for the instance left in any queue',
        async () => (await leftoverMessages(hub.backend, instanceId)) === 0,
      );
    });

    it('[F10] four clients racing to create the same 200 ids make 200 instances', async (t) => {
      const starts = new Map<string, number>();
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Once: function* (ctx) {
            if (!ctx.isReplaying) starts.set(ctx.instanceId, (starts.get(ctx.instanceId) ?? 0) + 1);
            return yield ctx.waitForExternalEvent('never');
          },
        },
      });
      if (!hub) return;
      const clients = [
        hub.client,
        await hub.addClient(),
        await hub.addClient(),
        await hub.addClient(),
      ];
      const ids = Array.from({ length: 200 }, (_, i) => `race-${i}`);
      const results = await Promise.allSettled(
        clients.flatMap((c) =>
          ids.map((instanceId) => c.createOrchestrationInstance('Once', { instanceId })),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled').length;
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won, 200);
      for (const r of lost) {
        assert.ok(isDurableTaskError(r.reason, 'INSTANCE_EXISTS'), String(r.reason));
      }
      await eventually(
        '200 instances running',
        () => ids.every((id) => starts.get(id) === 1) && starts.size === 200,
        120_000,
        250,
      );
      for (const id of ids.slice(0, 20)) {
        assert.equal((await hub.client.getOrchestrationStates(id)).length, 1, id);
      }
      await delay(1_000);
      assert.ok(
        [...starts.values()].every((n) => n === 1),
        'an instance body started twice',
      );
    });

    it('[F12] timers 8 and 45 days out are stored exactly and never fire early', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Far: function* (ctx) {
            const t8 = ctx.createTimer(after(ctx, 8 * DAY_MS));
            const t45 = ctx.createTimer(after(ctx, 45 * DAY_MS));
            const stop = ctx.waitForExternalEvent('stop');
            const winner = yield ctx.whenAny([t8, t45, stop]);
            t8.cancel();
            t45.cancel();
            return winner === stop ? 'stopped' : 'a timer fired';
          },
        },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('Far');
      await eventually(
        'running',
        async () =>
          (await hub.client.getOrchestrationState(instanceId))?.orchestrationStatus === 'Running',
      );
      await delay(1_500);
      const history = await hub.client.getOrchestrationHistory(instanceId);
      const start = ofType(history, 'OrchestratorStarted')[0];
      assert.ok(start);
      const due = ofType(history, 'TimerCreated').map(
        (e) => Date.parse(e.fireAt) - Date.parse(start.timestamp),
      );
      assert.deepEqual(due, [8 * DAY_MS, 45 * DAY_MS]);
      assert.equal(countType(history, 'TimerFired'), 0);
      await hub.client.raiseEvent(instanceId, 'stop');
      assert.equal(outputOf(await hub.wait(instanceId)), 'stopped');
    });

    it('[F12] with a simulated clock, 8- and 45-day timers each fire once, on time', async (t) => {
      const clock = new SimClock(Date.parse('2030-01-01T00:00:00.000Z'));
      const hub = await startHub(t, fixture, {
        backend: { extra: { clock } },
        workerOptions: { clock },
        orchestrations: {
          Far: function* (ctx) {
            const start = ctx.currentUtcDateTime.getTime();
            const t8 = ctx.createTimer(new Date(start + 8 * DAY_MS));
            const t45 = ctx.createTimer(new Date(start + 45 * DAY_MS));
            yield t8;
            const at8 = ctx.currentUtcDateTime.getTime() - start;
            yield t45;
            return [at8, ctx.currentUtcDateTime.getTime() - start];
          },
        },
      });
      if (!hub) return;
      const started = clock.now();
      const { instanceId } = await hub.client.createOrchestrationInstance('Far', {
        instanceId: 'far',
      });
      const fired = async () =>
        countType(await hub.client.getOrchestrationHistory(instanceId), 'TimerFired');
      await eventually(
        'both timers created',
        async () =>
          countType(await hub.client.getOrchestrationHistory(instanceId), 'TimerCreated') === 2,
      );
      clock.set(started + 8 * DAY_MS - 1_000);
      await delay(1_000);
      assert.equal(await fired(), 0, 'a timer fired before its due time');
      clock.set(started + 8 * DAY_MS + 1);
      await eventually('the 8-day timer', async () => (await fired()) === 1);
      clock.set(started + 45 * DAY_MS - 1_000);
      await delay(1_000);
      assert.equal(await fired(), 1, 'the 45-day timer fired early');
      clock.set(started + 45 * DAY_MS + 1);
      const done = await hub.wait(instanceId);
      const [at8, at45] = outputOf(done) as [number, number];
      assert.ok(at8 >= 8 * DAY_MS && at8 < 45 * DAY_MS, `8-day timer seen at +${at8} ms`);
      assert.ok(at45 >= 45 * DAY_MS, `45-day timer seen at +${at45} ms`);
      assert.equal(await fired(), 2);
    });

    it('[F13] a 2 MB error message fails the orchestration without hanging the hub', async (t) => {
      const huge = 'x'.repeat(2 * 1024 * 1024);
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Huge: function* (ctx) {
            return yield ctx.callActivity('Huge');
          },
          HugeCaught: function* (ctx) {
            try {
              yield ctx.callActivity('Huge');
              return -1;
            } catch (err) {
              return (
                (err as { failureDetails?: { errorMessage?: string } }).failureDetails
                  ?.errorMessage ?? ''
              ).length;
            }
          },
          Fine: function* () {
            return 'fine';
          },
        },
        activities: {
          Huge: () => {
            throw new Error(huge);
          },
        },
      });
      if (!hub) return;
      const [failed, caught] = await Promise.all([hub.run('Huge'), hub.run('HugeCaught')]);
      assert.equal(failed.orchestrationStatus, 'Failed');
      assert.ok((failed.output ?? '').length < huge.length, 'the error text was stored whole');
      assert.match(failed.output ?? '', /truncat/i);
      const length = outputOf(caught) as number;
      assert.ok(length > 0 && length < huge.length);
      assert.equal(outputOf(await hub.run('Fine')), 'fine');
    });

    it('[F15] 500-way fan-out records exactly 500 completions', async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'dt-f15-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'lines.txt');
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Wide: function* (ctx) {
            const tasks = [];
            for (let i = 0; i < 500; i++) tasks.push(ctx.callActivity('Append', i));
            const r: number[] = yield ctx.whenAll(tasks);
            return r.length;
          },
        },
        activities: {
          Append: (_ctx, i: number) => {
            appendFileSync(file, `${i}\n`);
            return i;
          },
        },
      });
      if (!hub) return;
      const state = await hub.run('Wide', { instanceId: 'wide' }, 180_000);
      assert.equal(outputOf(state), 500);
      const history = await hub.client.getOrchestrationHistory('wide');
      assert.equal(countType(history, 'TaskCompleted'), 500);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(lines.length, 500);
      assert.equal(new Set(lines).size, 500);
    });

    // Eight instances make sure some land on each worker (NATS: on partitions of each).
    it(
      '[F16] an unknown orchestration is retried, not failed, until a worker registers it',
      async (t) => {
        const hub = await startHub(t, fixture, { orchestrations: {} });
        if (!hub) return;
        const ids = Array.from({ length: 8 }, (_, i) => `unregistered-${i}`);
        await Promise.all(
          ids.map((instanceId) =>
            hub.client.createOrchestrationInstance('Unregistered', { instanceId }),
          ),
        );
        await delay(2_000);
        for (const id of ids) {
          const mid = await hub.client.getOrchestrationState(id);
          assert.ok(
            mid && ['Pending', 'Running'].includes(mid.orchestrationStatus),
            `status while unregistered: ${mid?.orchestrationStatus}`,
          );
        }
        await hub.addWorker({
          orchestrations: {
            Unregistered: function* () {
              return 'picked up';
            },
          },
        });
        const done = await Promise.all(ids.map((id) => hub.wait(id, 30_000)));
        for (const s of done) assert.equal(outputOf(s), 'picked up');
      },
    );

    it('[F16] an orchestration nobody registers fails after the bounded retry time', async (t) => {
      const hub = await startHub(t, fixture, {
        workerOptions: { unknownTypeRetryMs: 3_000 },
        orchestrations: {},
      });
      if (!hub) return;
      const started = Date.now();
      const state = await hub.run('Nobody', { instanceId: 'nobody' });
      assert.equal(state.orchestrationStatus, 'Failed');
      assert.match(state.output ?? '', /Nobody/);
      assert.match(state.output ?? '', /regist/i);
      assert.ok(Date.now() - started >= 3_000, 'gave up before the retry time');
    });

    it('[F17] recursive purge removes the children; plain purge only the parent', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Parent: function* (ctx) {
            return yield ctx.whenAll(
              [1, 2].map((i) =>
                ctx.callSubOrchestration('Child', i, { instanceId: `${ctx.instanceId}-c${i}` }),
              ),
            );
          },
          Child: function* (_ctx, i: number) {
            return i;
          },
        },
      });
      if (!hub) return;
      await Promise.all([
        hub.run('Parent', { instanceId: 'rec' }),
        hub.run('Parent', { instanceId: 'flat' }),
      ]);
      const rec = await hub.client.purgeInstance('rec', { recursive: true });
      assert.equal(rec.deletedInstanceCount, 3);
      for (const id of ['rec', 'rec-c1', 'rec-c2']) {
        assert.equal(await hub.client.getOrchestrationState(id), null, id);
        assert.deepEqual(await hub.client.getOrchestrationHistory(id).catch(() => []), [], id);
      }
      const flat = await hub.client.purgeInstance('flat');
      assert.equal(flat.deletedInstanceCount, 1);
      assert.equal(await hub.client.getOrchestrationState('flat'), null);
      assert.equal(
        (await hub.client.getOrchestrationState('flat-c1'))?.orchestrationStatus,
        'Completed',
      );
      assert.equal(
        (await hub.client.getOrchestrationState('flat-c2'))?.orchestrationStatus,
        'Completed',
      );
    });

    it('[F19] ten concurrent starts of one id run the body once', async (t) => {
      let bodies = 0;
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Sleepy: function* (ctx) {
            if (!ctx.isReplaying) bodies++;
            yield ctx.createTimer(after(ctx, 1_000));
            return 'slept';
          },
        },
      });
      if (!hub) return;
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          hub.client.createOrchestrationInstance('Sleepy', { instanceId: 'one' }),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, 'the default dedupe rule let more than one start through');
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(isDurableTaskError(r.reason, 'INSTANCE_EXISTS'));
      }
      assert.equal(outputOf(await hub.wait('one')), 'slept');
      assert.equal(bodies, 1);
      assert.equal((await hub.client.getOrchestrationStates('one')).length, 1);
    });

    it('[F20] hostile instance ids round-trip; empty and over-long ones are refused', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Echo: function* (ctx) {
            const v: string = yield ctx.waitForExternalEvent('go');
            return { id: ctx.instanceId, v };
          },
        },
      });
      if (!hub) return;
      await rejectsWithCode(
        hub.client.createOrchestrationInstance('Echo', { instanceId: '' }),
        'INVALID_INSTANCE_ID',
      );
      await rejectsWithCode(
        hub.client.createOrchestrationInstance('Echo', {
          instanceId: 'y'.repeat(10_000),
        }),
        'INVALID_INSTANCE_ID',
      );
      const long = 'é'.repeat(128) + '😀'.repeat(128);
      const ids = [' ', 'a.b', 'a*', '>', 'über/ünïcödé', long];
      await Promise.all(
        ids.map(async (id) => {
          await hub.client.createOrchestrationInstance('Echo', { instanceId: id });
          await hub.client.raiseEvent(id, 'go', `for ${id}`);
          const state = await hub.wait(id);
          assert.deepEqual(outputOf(state), { id, v: `for ${id}` });
          assert.equal(state.orchestrationInstance.instanceId, id);
        }),
      );
      for (const id of ids) {
        assert.equal(
          (await hub.client.getOrchestrationState(id))?.orchestrationInstance.instanceId,
          id,
        );
        const history = await hub.client.getOrchestrationHistory(id);
        assert.equal(ofType(history, 'ExecutionStarted')[0]?.orchestrationInstance.instanceId, id);
        const found = await hub.client.queryInstances({ instanceIdPrefix: id });
        assert.ok(
          found.orchestrationState.some((s) => s.orchestrationInstance.instanceId === id),
          `query by prefix missed ${JSON.stringify(id)}`,
        );
        assert.equal((await hub.client.purgeInstance(id)).deletedInstanceCount, 1, id);
        assert.equal(await hub.client.getOrchestrationState(id), null);
      }
    });

    it('[F22] ten sequential 200 ms timers take at least 2 s', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Loop: function* (ctx) {
            for (let i = 0; i < 10; i++) yield ctx.createTimer(after(ctx, 200));
            return 'looped';
          },
        },
      });
      if (!hub) return;
      const started = Date.now();
      const state = await hub.run('Loop', { instanceId: 'loop' });
      assert.equal(outputOf(state), 'looped');
      assert.ok(Date.now() - started >= 2_000);
      const history = await hub.client.getOrchestrationHistory('loop');
      assert.equal(countType(history, 'TimerFired'), 10);
    });

    it('[F24] interleaved instances of one orchestration share no state', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Collect: function* (ctx) {
            const seen: string[] = [];
            for (let i = 0; i < 3; i++) seen.push(yield ctx.waitForExternalEvent('item'));
            return { id: ctx.instanceId, seen, guid: ctx.newGuid() };
          },
          Forever: waitForever,
        },
      });
      if (!hub) return;
      await hub.client.createOrchestrationInstance('Collect', { instanceId: 'A' });
      await hub.client.createOrchestrationInstance('Collect', { instanceId: 'B' });
      for (let i = 0; i < 3; i++) {
        await hub.client.raiseEvent('A', 'item', `a${i}`);
        await hub.client.raiseEvent('B', 'item', `b${i}`);
      }
      const [a, b] = await Promise.all([hub.wait('A'), hub.wait('B')]);
      const outA = outputOf(a) as { id: string; seen: string[]; guid: string };
      const outB = outputOf(b) as { id: string; seen: string[]; guid: string };
      assert.deepEqual({ id: outA.id, seen: outA.seen }, { id: 'A', seen: ['a0', 'a1', 'a2'] });
      assert.deepEqual({ id: outB.id, seen: outB.seen }, { id: 'B', seen: ['b0', 'b1', 'b2'] });
      assert.notEqual(outA.guid, outB.guid);
    });
  });
}
