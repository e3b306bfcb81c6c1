import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEvent } from '../../src/core/history-event.ts';
import { backendFixtures } from '../support/backends.ts';
import { countType, delay, ofType, outputOf } from '../support/conformance-helpers.ts';
import { startHub } from '../support/hub-harness.ts';
import type { OrchestrationContext, Orchestrator } from '../support/runtime-api.ts';

// Case timings are scaled down (6 s -> 1.5 s, 1 s -> 0.5 s, 10 s -> 2 s); each
// assertion is a lower bound or a history shape, so it can still fail.

const after = (ctx: OrchestrationContext, ms: number) =>
  new Date(ctx.currentUtcDateTime.getTime() + ms);

/** Time of the episode (its OrchestratorStarted) that recorded the first event of `type`. */
function episodeStart(history: readonly HistoryEvent[], type: HistoryEvent['type']): number {
  const at = history.findIndex((e) => e.type === type);
  assert.ok(at >= 0, `no ${type} in history`);
  const marker = history
    .slice(0, at)
    .reverse()
    .find((e) => e.type === 'OrchestratorStarted');
  assert.ok(marker, `no OrchestratorStarted before ${type}`);
  return Date.parse(marker.timestamp);
}

/** Races an `Approval` event against a timer; cancels the timer when the event wins. */
const approval = (timeoutMs: number): Orchestrator =>
  function* (ctx) {
    const timer = ctx.createTimer(after(ctx, timeoutMs));
    const event = ctx.waitForExternalEvent('Approval');
    const winner = yield ctx.whenAny([event, timer]);
    if (winner === event) {
      timer.cancel();
      return event.result === true ? 'Approved' : 'Rejected';
    }
    return 'Expired';
  };

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('[20] a durable delay between two activities', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          DelayedGreeting: function* (ctx, name: string) {
            const user: string = yield ctx.callActivity('GetUser', name);
            yield ctx.createTimer(after(ctx, 1_500));
            return yield ctx.callActivity('Greet', user);
          },
        },
        activities: {
          GetUser: (_ctx, name: string) => name,
          Greet: (_ctx, user: string) => `Greeting send to ${user}`,
        },
      });
      if (!hub) return;
      const started = Date.now();
      const state = await hub.run('DelayedGreeting', { input: 'Gabbar' });
      assert.equal(outputOf(state), 'Greeting send to Gabbar');
      assert.ok(Date.now() - started >= 1_500, 'completed before the timer was due');
    });

    it('[21] sequential, concurrent and zero-delay timers', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Sequential: function* (ctx) {
            for (let i = 0; i < 3; i++) yield ctx.createTimer(after(ctx, 500));
            return 'seq';
          },
          Concurrent: function* (ctx) {
            const timers = [0, 1, 2].map(() => ctx.createTimer(after(ctx, 1_000)));
            yield ctx.whenAll(timers);
            return 'conc';
          },
          Zero: function* (ctx) {
            yield ctx.createTimer(0);
            return 'zero';
          },
        },
      });
      if (!hub) return;
      const started = Date.now();
      const [seq, conc, zero] = await Promise.all([
        hub.run('Sequential').then((s) => ({ s, ms: Date.now() - started })),
        hub.run('Concurrent'),
        hub.run('Zero'),
      ]);
      assert.equal(outputOf(seq.s), 'seq');
      assert.ok(seq.ms >= 1_500, `three sequential 500 ms timers took ${seq.ms} ms`);
      assert.equal(outputOf(conc), 'conc');
      assert.equal(outputOf(zero), 'zero');
      // Concurrency by history shape: all three timers created before any fired.
      const history = await hub.client.getOrchestrationHistory(
        conc.orchestrationInstance.instanceId,
      );
      const types = history.map((e) => e.type);
      assert.equal(countType(history, 'TimerCreated'), 3);
      assert.ok(types.lastIndexOf('TimerCreated') < types.indexOf('TimerFired'));
    });

    it('[23] a timer cancelled by the winner does not delay completion', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Approval: approval(30_000),
          ActivityRace: function* (ctx) {
            const timer = ctx.createTimer(after(ctx, 30_000));
            const work = ctx.callActivity('Work');
            const winner = yield ctx.whenAny([work, timer]);
            if (winner === work) timer.cancel();
            return winner === work ? work.result : 'timeout';
          },
        },
        activities: { Work: () => 'done' },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('Approval');
      await delay(300);
      await hub.client.raiseEvent(instanceId, 'Approval', true);
      const [approved, race] = await Promise.all([hub.wait(instanceId), hub.run('ActivityRace')]);
      assert.equal(outputOf(approved), 'Approved');
      assert.equal(outputOf(race), 'done');
      for (const s of [approved, race]) {
        const history = await hub.client.getOrchestrationHistory(
          s.orchestrationInstance.instanceId,
        );
        const timer = ofType(history, 'TimerCreated')[0];
        assert.ok(timer);
        assert.ok(
          s.completedTime && s.completedTime.getTime() < Date.parse(timer.fireAt),
          'waited for a cancelled timer',
        );
        assert.equal(countType(history, 'TimerFired'), 0);
      }
    });

    it('[24] the timer wins when no event comes', async (t) => {
      const hub = await startHub(t, fixture, { orchestrations: { Approval: approval(1_500) } });
      if (!hub) return;
      const started = Date.now();
      const state = await hub.run('Approval');
      assert.equal(outputOf(state), 'Expired');
      assert.ok(Date.now() - started >= 1_500);
    });

    it('[25] ten instances waiting on timers run concurrently', async (t) => {
      const hub = await startHub(t, fixture, { orchestrations: { Approval: approval(4_000) } });
      if (!hub) return;
      const states = await Promise.all(Array.from({ length: 10 }, () => hub.run('Approval')));
      for (const s of states) assert.equal(outputOf(s), 'Expired');
      // Every timer was created before the first one fired: they waited side by side.
      let lastCreated = 0;
      let firstFired = Infinity;
      for (const s of states) {
        const history = await hub.client.getOrchestrationHistory(
          s.orchestrationInstance.instanceId,
        );
        lastCreated = Math.max(lastCreated, episodeStart(history, 'TimerCreated'));
        firstFired = Math.min(firstFired, episodeStart(history, 'TimerFired'));
      }
      assert.ok(lastCreated < firstFired, 'instances waited on their timers one after another');
    });
  });
}
