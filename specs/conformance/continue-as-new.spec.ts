import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendFixtures } from '../support/backends.ts';
import { outputOf, payload } from '../support/conformance-helpers.ts';
import { SAFETY_TIMEOUT_MS, startHub } from '../support/hub-harness.ts';
import type { Orchestrator } from '../support/runtime-api.ts';

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('[33] generations: first execution ContinuedAsNew, instance Completed', async (t) => {
      let counter = 0;
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Generations: function* (ctx, n: number) {
            const c: number = yield ctx.callActivity('Bump');
            if (n > 1) {
              ctx.continueAsNew(n - 1);
              return;
            }
            return c;
          },
        },
        activities: { Bump: () => ++counter },
      });
      if (!hub) return;
      const { instanceId, executionId } = await hub.client.createOrchestrationInstance(
        'Generations',
        { input: 4 },
      );
      const first = await hub.client.waitForOrchestration(instanceId, {
        executionId,
        timeoutMs: SAFETY_TIMEOUT_MS,
      });
      assert.equal(first?.orchestrationStatus, 'ContinuedAsNew');
      assert.equal(first?.orchestrationInstance.executionId, executionId);
      const last = await hub.wait(instanceId);
      assert.equal(outputOf(last), 4);
      assert.notEqual(last.orchestrationInstance.executionId, executionId);
      assert.equal(counter, 4);
      const all = await hub.client.getOrchestrationStates(instanceId);
      assert.equal(
        all[0]?.orchestrationStatus,
        'Completed',
        'latest execution is not listed first',
      );
    });

    it('[34] a counter actor handles one operation per generation', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Counter: function* (ctx, value: number) {
            const op: string = yield ctx.waitForExternalEvent('operation');
            if (op === 'end') return value;
            ctx.continueAsNew(op === 'incr' ? value + 1 : value - 1);
          },
        },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('Counter', { input: 0 });
      for (const op of ['incr', 'incr', 'incr', 'decr', 'incr']) {
        await hub.client.raiseEvent(instanceId, 'operation', op);
        const s = await hub.client.getOrchestrationState(instanceId);
        assert.ok(
          s && ['Pending', 'Running', 'ContinuedAsNew'].includes(s.orchestrationStatus),
          `status between operations: ${s?.orchestrationStatus}`,
        );
      }
      await hub.client.raiseEvent(instanceId, 'operation', 'end');
      const done = await hub.wait(instanceId);
      assert.equal(outputOf(done), 3);
      assert.notEqual(payload(done.input), 0);
    });

    it('[35] events not yet processed are carried over to the next generation', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          UntilTrue: function* (ctx, n: number) {
            const stop: boolean = yield ctx.waitForExternalEvent('MyEvent');
            if (stop) return n;
            ctx.continueAsNew(n + 1);
          },
        },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('UntilTrue', {
        input: 0,
      });
      for (let i = 0; i < 10; i++) await hub.client.raiseEvent(instanceId, 'MyEvent', false);
      await hub.client.raiseEvent(instanceId, 'MyEvent', true);
      assert.equal(outputOf(await hub.wait(instanceId)), 10);
    });

    it('[36] events after the final generation completed are lost', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          GenerationSignal: function* (ctx, n: number) {
            yield ctx.waitForExternalEvent('Signal');
            if (n < 5) {
              ctx.continueAsNew(n + 1);
              return;
            }
            return String(n);
          },
        },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('GenerationSignal', {
        input: 1,
      });
      for (let i = 0; i < 7; i++) {
        // A raise that lands after completion may be refused; either way it is lost.
        await hub.client.raiseEvent(instanceId, 'Signal', i).catch(() => undefined);
      }
      assert.equal(outputOf(await hub.wait(instanceId)), '5');
    });

    const upToTen: Orchestrator = function* (ctx, n: number) {
      if (n >= 10) return n;
      yield ctx.createTimer(ctx.currentUtcDateTime);
      ctx.continueAsNew(n + 1);
    };

    it('[38] continue-as-new with timers reaches 10', async (t) => {
      const hub = await startHub(t, fixture, { orchestrations: { UpToTen: upToTen } });
      if (!hub) return;
      const done = await hub.run('UpToTen', { input: 0 });
      assert.equal(outputOf(done), 10);
      assert.equal(payload(done.input), 10);
    });

    it('[38] continue-as-new with timers reaches 10 under a short, renewed lock', async (t) => {
      const hub = await startHub(t, fixture, {
        backend: { orchestrationLockMs: 2_000 },
        orchestrations: { UpToTen: upToTen },
      });
      if (!hub) return;
      const done = await hub.run('UpToTen', { input: 0 });
      assert.equal(outputOf(done), 10);
      assert.equal(payload(done.input), 10);
    });

    it('[40] versions change across generations; creation tags stay', async (t) => {
      const step = (next: string | null): Orchestrator =>
        function* (ctx, seen: string[]) {
          const now = [...seen, ctx.version];
          if (next === null) return now;
          ctx.continueAsNew(now, { version: next });
        };
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Versioned: [
            { fn: step('2'), version: '1' },
            { fn: step('3'), version: '2' },
            { fn: step(null), version: '3' },
          ],
        },
      });
      if (!hub) return;
      const tags = { team: 'conformance', case: '40' };
      const done = await hub.run('Versioned', { input: [], version: '1', tags });
      assert.deepEqual(outputOf(done), ['1', '2', '3']);
      assert.equal(done.version, '3');
      assert.deepEqual(done.tags, tags);
    });
  });
}
