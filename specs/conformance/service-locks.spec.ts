import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent } from '../../src/core/history-event.ts';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import { backendFixtures, itWithHooks } from '../support/backends.ts';
import { delay, rejectsWithCode } from '../support/conformance-helpers.ts';
import {
  checkpoint,
  createInstance,
  EMPTY_RECEIVE_MS,
  executionOf,
  lockActivity,
  lockOrchestration,
  startService,
} from '../support/service-harness.ts';

// Service-level cases: the OrchestrationService / OrchestrationServiceClient
// contract driven by hand, without the runtime (cases 68-79 and 22).

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('[68] a new instance: one work item, only its start, empty state', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      await createInstance(b, 'myinstance', 'Greet', '"World"');
      const wi = await lockOrchestration(b);
      assert.ok(wi, 'no work item for a created instance');
      assert.equal(wi.instanceId, 'myinstance');
      assert.equal(wi.newMessages.length, 1);
      const start = wi.newMessages[0]?.event;
      assert.equal(start?.type, 'ExecutionStarted');
      assert.ok(start?.type === 'ExecutionStarted');
      assert.equal(start.name, 'Greet');
      assert.equal(start.input, '"World"');
      assert.equal(wi.orchestrationRuntimeState.events.length, 0);
      assert.throws(
        () => wi.orchestrationRuntimeState.name,
        (e) => isDurableTaskError(e),
      );
      assert.throws(
        () => wi.orchestrationRuntimeState.input,
        (e) => isDurableTaskError(e),
      );
      // INV-1: while held, no second work item for it.
      assert.equal(await lockOrchestration(b, EMPTY_RECEIVE_MS), null);
      await b.service.releaseOrchestrationWorkItem(wi);
    });

    it('[69] four instances give four work items, one each, in creation order', async (t) => {
      // One partition on NATS: the case's cross-instance order is stream order there.
      const b = await startService(t, fixture,
        { extra: fixture.kind === 'nats' ? { partitions: 1 } : {} });
      if (!b) return;
      const ids = ['i-1', 'i-2', 'i-3', 'i-4'];
      for (const id of ids) await createInstance(b, id);
      const got: string[] = [];
      for (let i = 0; i < ids.length; i++) {
        const wi = await lockOrchestration(b);
        assert.ok(wi, `work item ${i + 1} of ${ids.length} missing`);
        assert.equal(wi.newMessages.length, 1);
        got.push(wi.instanceId);
      }
      assert.deepEqual(got, ids);
      assert.equal(await lockOrchestration(b, EMPTY_RECEIVE_MS), null);
    });

    for (const final of ['Completed', 'Terminated', 'Failed'] as const) {
      it(`[70] a checkpoint to ${final} stores a final record verbatim`, async (t) => {
        const b = await startService(t, fixture);
        if (!b) return;
        const { instanceId } = await createInstance(b, `final-${final}`, 'Greet', '"x"');
        const wi = await lockOrchestration(b);
        assert.ok(wi);
        const failureDetails = {
          errorType: 'RangeError',
          errorMessage: 'out of range',
          stackTrace: 'RangeError: out of range\n    at step (orch.ts:1:1)',
          isNonRetriable: false,
        };
        const result = final === 'Failed' ? undefined : final === 'Completed' ? '"done"' : '"stop"';
        await checkpoint(b, wi, {
          events: [
            {
              type: 'ExecutionCompleted',
              eventId: 0,
              orchestrationStatus: final,
              ...(result !== undefined ? { result } : {}),
              ...(final === 'Failed' ? { failureDetails } : {}),
            },
          ],
        });
        await b.service.releaseOrchestrationWorkItem(wi);
        const [state] = await b.client.getOrchestrationState(instanceId);
        assert.ok(state);
        assert.equal(state.orchestrationStatus, final);
        assert.ok(state.completedTime instanceof Date);
        if (final === 'Failed') {
          assert.deepEqual(state.failureDetails, failureDetails);
          assert.equal(state.output, 'RangeError: out of range');
        } else {
          assert.equal(state.output, result);
        }
        assert.equal(await lockOrchestration(b, EMPTY_RECEIVE_MS), null);
      });
    }

    it('[71] activity round trip: schedule #7, lock it once, complete with "42"', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      await createInstance(b, 'act', 'Greet');
      const wi = await lockOrchestration(b);
      assert.ok(wi);
      const owner = executionOf(wi);
      const scheduled = newEvent({
        type: 'TaskScheduled',
        eventId: 7,
        name: 'SayHello',
        version: '',
        input: '"World"',
      });
      await checkpoint(b, wi, {
        events: [{ type: 'TaskScheduled', eventId: 7, name: 'SayHello', version: '' }],
        activityMessages: [taskMessage(scheduled, owner)],
      });
      await b.service.releaseOrchestrationWorkItem(wi);
      assert.equal(await lockOrchestration(b, EMPTY_RECEIVE_MS), null);

      const awi = await lockActivity(b);
      assert.ok(awi, 'no activity work item');
      assert.equal(awi.taskMessage.event.type, 'TaskScheduled');
      assert.ok(awi.taskMessage.event.type === 'TaskScheduled');
      assert.equal(awi.taskMessage.event.name, 'SayHello');
      assert.equal(awi.taskMessage.event.input, '"World"');
      assert.equal(awi.taskMessage.event.eventId, 7);
      assert.equal(awi.deliveryCount, 1);
      assert.equal(
        await lockActivity(b, EMPTY_RECEIVE_MS),
        null,
        'locked activity handed out twice',
      );

      const done = newEvent({ type: 'TaskCompleted', taskScheduledId: 7, result: '42' });
      await b.service.completeActivityWorkItem(
        awi,
        taskMessage(done, awi.taskMessage.orchestrationInstance),
      );
      const next = await lockOrchestration(b);
      assert.ok(next, 'no orchestration work item after the activity completed');
      assert.equal(next.newMessages.length, 1);
      const ev = next.newMessages[0]?.event;
      assert.ok(ev?.type === 'TaskCompleted', `expected TaskCompleted, got ${ev?.type}`);
      assert.equal(ev.taskScheduledId, 7);
      assert.equal(ev.result, '42');
      assert.equal(next.orchestrationRuntimeState.executionStartedEvent?.name, 'Greet');
      assert.equal(await lockActivity(b, EMPTY_RECEIVE_MS), null, 'completed activity came back');
    });

    it('[72] an abandoned orchestration work item can be locked again at once', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      await createInstance(b, 'abandon-me', 'Greet', '"a"');
      const wi = await lockOrchestration(b);
      assert.ok(wi);
      const before = wi.newMessages.map((m) => m.event);
      await b.service.abandonOrchestrationWorkItem(wi);
      await b.service.releaseOrchestrationWorkItem(wi);
      const again = await lockOrchestration(b);
      assert.ok(again, 'abandoned batch not redelivered');
      assert.equal(again.instanceId, 'abandon-me');
      assert.deepEqual(
        again.newMessages.map((m) => m.event),
        before,
      );
    });

    it('[73] an abandoned activity comes back: name, id 123, no input', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      await createInstance(b, 'act-abandon', 'Greet');
      const wi = await lockOrchestration(b);
      assert.ok(wi);
      const owner = executionOf(wi);
      const scheduled = newEvent({
        type: 'TaskScheduled',
        eventId: 123,
        name: 'Poke',
        version: '',
      });
      await checkpoint(b, wi, {
        events: [{ type: 'TaskScheduled', eventId: 123, name: 'Poke', version: '' }],
        activityMessages: [taskMessage(scheduled, owner)],
      });
      await b.service.releaseOrchestrationWorkItem(wi);
      const first = await lockActivity(b);
      assert.ok(first);
      assert.equal(await lockActivity(b, EMPTY_RECEIVE_MS), null);
      await b.service.abandonActivityWorkItem(first);
      const again = await lockActivity(b);
      assert.ok(again, 'abandoned activity not redelivered');
      const ev = again.taskMessage.event;
      assert.ok(ev.type === 'TaskScheduled');
      assert.equal(ev.name, 'Poke');
      assert.equal(ev.eventId, 123);
      assert.equal(ev.input, undefined);
      assert.equal(again.id, first.id, 'activity message id is not stable across redelivery');
      assert.ok(again.deliveryCount >= 2, `deliveryCount ${again.deliveryCount} after an abandon`);
    });

    it('[79] an event raised during an episode is not consumed by its checkpoint', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      await createInstance(b, 'x', 'Waiter');
      const wi = await lockOrchestration(b);
      assert.ok(wi);
      await b.client.sendOrchestrationMessage(
        taskMessage(newEvent({ type: 'EventRaised', name: 'Go', input: '1' }), { instanceId: 'x' }),
      );
      assert.equal(await lockOrchestration(b, EMPTY_RECEIVE_MS), null, 'instance locked twice');
      await checkpoint(b, wi);
      await b.service.releaseOrchestrationWorkItem(wi);
      const next = await lockOrchestration(b);
      assert.ok(next, 'event raised during the episode was lost');
      assert.deepEqual(
        next.newMessages.map((m) => m.event.type),
        ['EventRaised'],
      );
      assert.equal(next.orchestrationRuntimeState.executionStartedEvent?.name, 'Waiter');
    });

    it('[22] a timer is invisible until due, then fires with its fireAt', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      await createInstance(b, 'timer', 'Sleeper');
      const wi = await lockOrchestration(b);
      assert.ok(wi);
      const owner = executionOf(wi);
      const fireAt = new Date(Date.now() + 2_000).toISOString();
      await checkpoint(b, wi, {
        events: [{ type: 'TimerCreated', eventId: 0, fireAt }],
        timerMessages: [taskMessage(newEvent({ type: 'TimerFired', timerId: 0, fireAt }), owner)],
      });
      await b.service.releaseOrchestrationWorkItem(wi);
      assert.equal(await lockOrchestration(b, 1_000), null, 'timer delivered before its fireAt');
      const fired = await lockOrchestration(b);
      const lockedAt = Date.now();
      assert.ok(fired, 'timer never delivered');
      assert.ok(lockedAt >= Date.parse(fireAt), 'timer delivered early');
      assert.equal(fired.newMessages.length, 1);
      const ev = fired.newMessages[0]?.event;
      assert.ok(ev?.type === 'TimerFired');
      assert.equal(ev.fireAt, fireAt);
      assert.equal(ev.timerId, 0);
    });

    it('[74] [78] an expired lock redelivers the batch and fences the stale holder', async (t) => {
      // Without a checkpoint fault hook this plays the same invariants through a
      // lapsed lease: the first holder never commits, the batch comes back whole,
      // the late checkpoint of the first holder fails and changes nothing.
      const b = await startService(t, fixture, { orchestrationLockMs: 2_000 });
      if (!b) return;
      await createInstance(b, 'stale', 'Greet', '"s"');
      const first = await lockOrchestration(b);
      assert.ok(first);
      const batch = first.newMessages.map((m) => m.event);
      const second = await lockOrchestration(b, 30_000);
      assert.ok(second, 'batch not redelivered after the lock lapsed');
      assert.deepEqual(
        second.newMessages.map((m) => m.event),
        batch,
      );
      await checkpoint(b, second, {
        events: [
          {
            type: 'ExecutionCompleted',
            eventId: 0,
            orchestrationStatus: 'Completed',
            result: '"second"',
          },
        ],
      });
      await b.service.releaseOrchestrationWorkItem(second);
      await assert.rejects(
        checkpoint(b, first, {
          events: [
            {
              type: 'ExecutionCompleted',
              eventId: 0,
              orchestrationStatus: 'Failed',
              failureDetails: { errorType: 'E', errorMessage: 'stale', isNonRetriable: false },
            },
          ],
        }),
        (err: unknown) =>
          isDurableTaskError(err, 'LOCK_LOST') || isDurableTaskError(err, 'SESSION_ABORTED'),
      );
      await b.service.releaseOrchestrationWorkItem(first).catch(() => undefined);
      const [state] = await b.client.getOrchestrationState('stale');
      assert.equal(state?.orchestrationStatus, 'Completed');
      assert.equal(state?.output, '"second"');
      const history = await b.client.getOrchestrationHistory('stale');
      assert.equal(history.filter((e) => e.type === 'ExecutionCompleted').length, 1);
    });

    it('[76] a lapsed activity lock redelivers; a stale result is not applied', async (t) => {
      const b = await startService(t, fixture, { activityLockMs: 2_000 });
      if (!b) return;
      await createInstance(b, 'act-stale', 'Greet');
      const wi = await lockOrchestration(b);
      assert.ok(wi);
      const owner = executionOf(wi);
      const scheduled = newEvent({ type: 'TaskScheduled', eventId: 0, name: 'Slow', version: '' });
      await checkpoint(b, wi, {
        events: [{ type: 'TaskScheduled', eventId: 0, name: 'Slow', version: '' }],
        activityMessages: [taskMessage(scheduled, owner)],
      });
      await b.service.releaseOrchestrationWorkItem(wi);
      const first = await lockActivity(b);
      assert.ok(first);
      const second = await lockActivity(b, 30_000);
      assert.ok(second, 'activity not redelivered after its lock lapsed');
      assert.equal(second.id, first.id);
      assert.ok(second.deliveryCount >= 2);
      const result = (r: string) =>
        taskMessage(newEvent({ type: 'TaskCompleted', taskScheduledId: 0, result: r }), owner);
      await b.service.completeActivityWorkItem(second, result('"second"'));
      // The stale holder's completion is rejected or ignored as a duplicate (design 9.16).
      await b.service.completeActivityWorkItem(first, result('"first"')).catch(() => undefined);
      const next = await lockOrchestration(b);
      assert.ok(next);
      const completions = next.newMessages.filter((m) => m.event.type === 'TaskCompleted');
      assert.equal(completions.length, 1, 'a stale activity result was delivered');
      const ev = completions[0]?.event;
      assert.ok(ev?.type === 'TaskCompleted');
      assert.equal(ev.result, '"second"');
      await checkpoint(b, next);
      await b.service.releaseOrchestrationWorkItem(next);
      assert.equal(
        await lockOrchestration(b, EMPTY_RECEIVE_MS),
        null,
        'duplicate result delivered',
      );
    });

    itWithHooks(
      fixture,
      ['failCheckpoints'],
      '[74] a checkpoint that throws commits nothing; after the lease the batch comes back',
      async (t) => {
        let attempts = 0;
        const b = await startService(t, fixture, {
          orchestrationLockMs: 2_000,
          faults: { failCheckpoints: 1 },
        });
        if (!b) return;
        await createInstance(b, 'faulty', 'Greet', '"f"');
        const first = await lockOrchestration(b);
        assert.ok(first);
        const batch = first.newMessages.map((m) => m.event);
        const done = {
          events: [
            {
              type: 'ExecutionCompleted',
              eventId: 0,
              orchestrationStatus: 'Completed',
              result: '"ok"',
            },
          ],
        } as const;
        attempts++;
        await rejectsWithCode(checkpoint(b, first, done), 'BACKEND_ERROR');
        const [pending] = await b.client.getOrchestrationState('faulty');
        assert.equal(
          pending?.orchestrationStatus,
          'Pending',
          'the failed checkpoint wrote a status',
        );
        assert.deepEqual(await b.client.getOrchestrationHistory('faulty').catch(() => []), []);
        const second = await lockOrchestration(b, 30_000);
        assert.ok(second, 'batch not redelivered after the lease lapsed');
        assert.deepEqual(
          second.newMessages.map((m) => m.event),
          batch,
        );
        attempts++;
        await checkpoint(b, second, done);
        await b.service.releaseOrchestrationWorkItem(second);
        assert.equal(attempts, 2);
        const [state] = await b.client.getOrchestrationState('faulty');
        assert.equal(state?.orchestrationStatus, 'Completed');
        assert.equal(state?.output, '"ok"');
      },
    );

    itWithHooks(
      fixture,
      ['failActivityCompletions'],
      '[76] an activity completion that throws delivers nothing; the lapsed activity comes back',
      async (t) => {
        const b = await startService(t, fixture, {
          activityLockMs: 1_500,
          faults: { failActivityCompletions: 1 },
        });
        if (!b) return;
        await createInstance(b, 'act-faulty', 'Greet');
        const wi = await lockOrchestration(b);
        assert.ok(wi);
        const owner = executionOf(wi);
        const scheduled = newEvent({ type: 'TaskScheduled', eventId: 0, name: 'Hi', version: '' });
        await checkpoint(b, wi, {
          events: [{ type: 'TaskScheduled', eventId: 0, name: 'Hi', version: '' }],
          activityMessages: [taskMessage(scheduled, owner)],
        });
        await b.service.releaseOrchestrationWorkItem(wi);
        const result = taskMessage(
          newEvent({ type: 'TaskCompleted', taskScheduledId: 0, result: '"hi"' }),
          owner,
        );
        const first = await lockActivity(b);
        assert.ok(first);
        await rejectsWithCode(b.service.completeActivityWorkItem(first, result), 'BACKEND_ERROR');
        assert.equal(
          await lockOrchestration(b, EMPTY_RECEIVE_MS),
          null,
          'a failed completion sent',
        );
        const again = await lockActivity(b, 30_000);
        assert.ok(again, 'activity not redelivered');
        await b.service.completeActivityWorkItem(again, result);
        const next = await lockOrchestration(b);
        assert.ok(next);
        assert.deepEqual(
          next.newMessages.map((m) => m.event.type),
          ['TaskCompleted'],
        );
      },
    );

    it('should end handed-out activity locks on a forced stop and give them back', async (t) => {
      const b = await startService(t, fixture);
      if (!b) return;
      await createInstance(b, 'act-forced', 'Greet');
      const wi = await lockOrchestration(b);
      assert.ok(wi);
      const owner = executionOf(wi);
      const scheduled = newEvent({ type: 'TaskScheduled', eventId: 4, name: 'Poke', version: '' });
      await checkpoint(b, wi, {
        events: [{ type: 'TaskScheduled', eventId: 4, name: 'Poke', version: '' }],
        activityMessages: [taskMessage(scheduled, owner)],
      });
      await b.service.releaseOrchestrationWorkItem(wi);
      const held = await lockActivity(b);
      assert.ok(held);

      await b.service.stop({ forced: true });
      const result = newEvent({ type: 'TaskCompleted', taskScheduledId: 4, result: '"late"' });
      await rejectsWithCode(
        b.service.completeActivityWorkItem(held, taskMessage(result, owner)),
        'LOCK_LOST',
      );
      // Given back at once: the next start hands it out long before its lock would lapse.
      await b.service.start();
      const again = await lockActivity(b);
      assert.ok(again, 'the activity of the stopped holder did not come back');
      assert.equal(again.taskMessage.event.eventId, 4);
      assert.ok(again.lockedUntil.getTime() > Date.now());
    });

    it('should refuse locks before start and start before create', async (t) => {
      const reason = await fixture.unavailable();
      if (reason) return void t.skip(reason);
      const b = await fixture.create({});
      t.after(() => b.close());
      await rejectsWithCode(b.service.start(), 'INVALID_HUB_STATE');
      await b.service.createIfNotExists();
      await rejectsWithCode(b.service.lockNextOrchestrationWorkItem(100), 'HUB_NOT_RUNNING');
      await b.service.start();
      assert.equal(await b.service.lockNextOrchestrationWorkItem(EMPTY_RECEIVE_MS), null);
      await b.service.stop();
      await delay(0);
    });
  });
}
