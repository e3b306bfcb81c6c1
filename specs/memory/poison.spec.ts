import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { POISON_ERROR_TYPE } from '../../src/core/dead-letter.ts';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import { createMemoryBackend } from '../../src/memory/index.ts';
import { settle, SimClock } from '../support/sim-clock.ts';
import {
  checkpoint,
  create,
  episode,
  lockNow,
  nothingToLock,
  owner,
  raise,
  SECOND,
  started,
} from './helpers.ts';

const LIMIT = 3;
const OPTIONS = { maxDeliveries: LIMIT, abandonBackoffMs: 0 };

describe('memory backend: poison messages', () => {
  it('should dead-letter a message whose work items failed maxDeliveries times', async (t) => {
    const { b } = await started(t, OPTIONS);
    await create(b, 'x');
    await episode(b);
    await b.client.sendOrchestrationMessage(raise('x', 'Bad', '"boom"'));
    for (let i = 0; i < LIMIT; i++) {
      const wi = await lockNow(b);
      await b.service.abandonOrchestrationWorkItem(wi);
      await b.service.releaseOrchestrationWorkItem(wi);
    }
    await nothingToLock(b);

    const [state] = await b.client.getOrchestrationState('x');
    assert.equal(state?.orchestrationStatus, 'Failed');
    assert.equal(state?.failureDetails?.errorType, POISON_ERROR_TYPE);
    assert.equal(state?.failureDetails?.properties?.['code'], 'POISON_MESSAGE');
    assert.match(state?.output ?? '', /EventRaised.*failed 3 deliveries \(limit 3\)/);
    const dead = await b.client.listDeadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.kind, 'orchestration');
    assert.equal(dead[0]?.instanceId, 'x');
    assert.equal(dead[0]?.eventType, 'EventRaised');
    assert.equal(dead[0]?.deliveries, LIMIT);
    assert.equal(dead[0]?.message.event.type, 'EventRaised');
    const history = await b.client.getOrchestrationHistory('x');
    assert.deepEqual(history.slice(-2).map((e) => e.type), [
      'ExecutionCompleted', 'OrchestratorCompleted',
    ]);
  });

  it('should not count abandons marked not-handled, nor releases', async (t) => {
    const { b } = await started(t, OPTIONS);
    await create(b, 'x');
    for (let i = 0; i < LIMIT * 3; i++) {
      const wi = await lockNow(b);
      if (i % 2 === 0) {
        await b.service.abandonOrchestrationWorkItem(wi, { reason: 'not-handled' });
      }
      await b.service.releaseOrchestrationWorkItem(wi);
    }
    const wi = await lockNow(b);
    assert.equal(wi.newMessages[0]?.event.type, 'ExecutionStarted');
    assert.deepEqual(await b.client.listDeadLetters(), []);
  });

  it('should count lapsed locks and fail a Pending instance whose start is poison', async (t) => {
    const { b, clock } = await started(t, { ...OPTIONS, orchestrationLockMs: 10 * SECOND });
    const parent = { instanceId: 'p', executionId: await create(b, 'p'), taskScheduleId: 4 };
    await episode(b);
    await create(b, 'child', { parent });
    for (let i = 0; i < LIMIT; i++) {
      assert.equal((await lockNow(b)).instanceId, 'child');
      clock.advance(10 * SECOND + 1);
      await settle();
    }
    // The third lapse is noticed at the next call: the parent hears of the failed child.
    const report = await lockNow(b);
    assert.equal(report.instanceId, 'p');
    const ev = report.newMessages[0]?.event;
    assert.ok(ev?.type === 'SubOrchestrationInstanceFailed');
    assert.equal(ev.taskScheduledId, 4);
    assert.equal(ev.failureDetails?.errorType, POISON_ERROR_TYPE);
    const [child] = await b.client.getOrchestrationState('child');
    assert.equal(child?.orchestrationStatus, 'Failed');
    assert.match(child?.output ?? '', /ExecutionStarted message for instance 'child'/);
    const history = await b.client.getOrchestrationHistory('child');
    assert.deepEqual(history.map((e) => e.type), [
      'OrchestratorStarted', 'ExecutionStarted', 'ExecutionCompleted', 'OrchestratorCompleted',
    ]);
  });

  it('should answer a poison activity with a TaskFailed naming the reason', async (t) => {
    const { b } = await started(t, OPTIONS);
    await create(b, 'x');
    const wi = await lockNow(b);
    const own = owner(wi);
    await checkpoint(b, wi, {
      events: [{ type: 'TaskScheduled', eventId: 0, name: 'Crash', version: '' }],
      activityMessages: [taskMessage(newEvent({
        type: 'TaskScheduled', eventId: 0, name: 'Crash', version: '',
      }), own)],
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    for (let i = 0; i < LIMIT; i++) {
      const a = await b.service.lockNextActivityWorkItem(0);
      assert.ok(a);
      assert.equal(a.deliveryCount, i + 1);
      await b.service.abandonActivityWorkItem(a);
    }
    assert.equal(await b.service.lockNextActivityWorkItem(0), null);
    const next = await lockNow(b);
    const failed = next.newMessages[0]?.event;
    assert.ok(failed?.type === 'TaskFailed');
    assert.equal(failed.taskScheduledId, 0);
    assert.equal(failed.failureDetails?.errorType, POISON_ERROR_TYPE);
    assert.match(failed.failureDetails?.errorMessage ?? '', /Activity 'Crash' \(task #0\)/);
    const dead = await b.client.listDeadLetters({ instanceId: 'x' });
    assert.deepEqual(dead.map((d) => [d.kind, d.eventType, d.deliveries]),
      [['activity', 'TaskScheduled', LIMIT]]);
  });

  it('should forget the dead letters of a purged instance', async (t) => {
    const { b } = await started(t, OPTIONS);
    await create(b, 'x');
    for (let i = 0; i < LIMIT; i++) {
      const wi = await lockNow(b);
      await b.service.abandonOrchestrationWorkItem(wi);
    }
    assert.equal((await b.client.listDeadLetters({ instanceId: 'x' })).length, 1);
    await b.client.purgeInstanceState('x');
    assert.deepEqual(await b.client.listDeadLetters(), []);
  });

  it('should offer what one backend abandoned to another waiting backend first', async (t) => {
    const clock = new SimClock();
    const a = createMemoryBackend({ clock, hub: 'fair', abandonBackoffMs: 0 });
    const b = createMemoryBackend({ shareStoreWith: a });
    t.after(async () => {
      await b.close();
      await a.close();
    });
    for (const backend of [a, b]) {
      await backend.service.createIfNotExists();
      await backend.service.start();
    }
    await create(a, 'x');
    let held = await a.service.lockNextOrchestrationWorkItem(0);
    assert.equal(held?.instanceId, 'x');
    // Both wait while each abandons in turn: the other one always gets it.
    for (let round = 0; round < 4; round++) {
      const [from, to] = round % 2 === 0 ? [a, b] : [b, a];
      const own = from.service.lockNextOrchestrationWorkItem(60 * SECOND);
      const peer = to.service.lockNextOrchestrationWorkItem(60 * SECOND);
      await settle();
      await from.service.abandonOrchestrationWorkItem(held!, { reason: 'not-handled' });
      held = await peer;
      assert.equal(held?.instanceId, 'x', `round ${round}: the peer did not get it`);
      await from.service.stop();
      assert.equal(await own, null);
      await from.service.start();
    }
    // With no one else waiting, the backend that abandoned it gets it back.
    await a.service.abandonOrchestrationWorkItem(held!, { reason: 'not-handled' });
    assert.equal((await a.service.lockNextOrchestrationWorkItem(0))?.instanceId, 'x');
  });
});
