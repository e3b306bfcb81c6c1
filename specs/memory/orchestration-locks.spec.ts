import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settle } from '../support/sim-clock.ts';
import {
  checkpoint,
  completed,
  create,
  episode,
  eventTypes,
  lockNow,
  nothingToLock,
  raise,
  rejectsCode,
  SECOND,
  started,
  startMessage,
} from './helpers.ts';

describe('memory backend: orchestration locks', () => {
  it('should hand out a new instance with only its start and an empty runtime state', async (t) => {
    const { b } = await started(t);
    await create(b, 'a', { input: '"x"' });
    const wi = await lockNow(b);
    assert.equal(wi.instanceId, 'a');
    assert.deepEqual(eventTypes(wi), ['ExecutionStarted']);
    assert.equal(wi.orchestrationRuntimeState.events.length, 0);
    assert.equal(wi.isExtendedSession, false);
    await nothingToLock(b);
  });

  it('should lock instances in the order of their oldest message', async (t) => {
    const { b } = await started(t);
    for (const id of ['i3', 'i1', 'i2']) await create(b, id);
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await lockNow(b)).instanceId);
    assert.deepEqual(got, ['i3', 'i1', 'i2']);
    await nothingToLock(b);
  });

  it('should consume exactly the locked batch; later arrivals come next, in order', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    const wi = await lockNow(b);
    await b.client.sendOrchestrationMessage(raise('x', 'A', '1'));
    await b.client.sendOrchestrationMessage(raise('x', 'B', '2'));
    await nothingToLock(b);
    await checkpoint(b, wi);
    await nothingToLock(b); // still held until release
    await b.service.releaseOrchestrationWorkItem(wi);
    const next = await lockNow(b);
    assert.deepEqual(next.newMessages.map((m) => m.event.type === 'EventRaised' && m.event.name),
      ['A', 'B']);
    assert.equal(next.orchestrationRuntimeState.executionStartedEvent?.orchestrationInstance
      .instanceId, 'x');
  });

  it('should cap a batch at maxBatchMessages and deliver the rest next', async (t) => {
    const { b } = await started(t, { maxBatchMessages: 2 });
    await create(b, 'x');
    await episode(b);
    for (const n of ['1', '2', '3']) await b.client.sendOrchestrationMessage(raise('x', n));
    const first = await lockNow(b);
    assert.equal(first.newMessages.length, 2);
    await checkpoint(b, first);
    await b.service.releaseOrchestrationWorkItem(first);
    const second = await lockNow(b);
    assert.deepEqual(second.newMessages.map((m) => m.event.type === 'EventRaised' && m.event.name),
      ['3']);
  });

  it('should let a lock lapse at lockedUntil and redeliver its batch plus new arrivals',
    async (t) => {
    const { b, clock } = await started(t, { orchestrationLockMs: 10 * SECOND });
    await create(b, 'x');
    const first = await lockNow(b);
    assert.equal(first.lockedUntil.getTime(), clock.now() + 10 * SECOND);
    await b.client.sendOrchestrationMessage(raise('x', 'late'));
    clock.advance(10 * SECOND - 1);
    await nothingToLock(b);
    clock.advance(1);
    const second = await lockNow(b);
    assert.deepEqual(eventTypes(second), ['ExecutionStarted', 'EventRaised']);
    assert.deepEqual(second.newMessages[0], first.newMessages[0]);
  });

  it('should fence a stale holder: complete, renew, abandon fail, change nothing', async (t) => {
    const { b, clock } = await started(t, { orchestrationLockMs: 5 * SECOND });
    await create(b, 'x');
    const stale = await lockNow(b);
    clock.advance(5 * SECOND);
    const fresh = await lockNow(b);
    await rejectsCode(checkpoint(b, stale, completed('"stale"')), 'LOCK_LOST');
    await rejectsCode(b.service.renewOrchestrationWorkItemLock(stale), 'LOCK_LOST');
    await rejectsCode(b.service.abandonOrchestrationWorkItem(stale), 'LOCK_LOST');
    await b.service.releaseOrchestrationWorkItem(stale); // harmless
    const [state] = await b.client.getOrchestrationState('x');
    assert.equal(state?.orchestrationStatus, 'Pending');
    assert.deepEqual(await b.client.getOrchestrationHistory('x'), []);
    await checkpoint(b, fresh, completed('"fresh"'));
    const [after] = await b.client.getOrchestrationState('x');
    assert.equal(after?.orchestrationStatus, 'Completed');
    assert.equal(after?.output, '"fresh"');
  });

  it('should keep the lock while renewals succeed', async (t) => {
    const { b, clock } = await started(t, { orchestrationLockMs: 5 * SECOND });
    await create(b, 'x');
    const wi = await lockNow(b);
    for (let i = 0; i < 4; i++) {
      clock.advance(4 * SECOND);
      const before = wi.lockedUntil.getTime();
      await b.service.renewOrchestrationWorkItemLock(wi);
      assert.ok(wi.lockedUntil.getTime() > before);
      await nothingToLock(b);
    }
    await checkpoint(b, wi);
  });

  it('should return an abandoned batch at once, then with a delay growing per batch', async (t) => {
    const { b, clock } = await started(t, { abandonBackoffMs: 1_000, maxAbandonBackoffMs: 3_000 });
    await create(b, 'poison');
    await create(b, 'healthy');
    let wi = await lockNow(b);
    assert.equal(wi.instanceId, 'poison');
    await b.service.abandonOrchestrationWorkItem(wi);
    await b.service.releaseOrchestrationWorkItem(wi);
    wi = await lockNow(b); // first abandon: no delay, and it keeps its place
    assert.equal(wi.instanceId, 'poison');
    await b.service.abandonOrchestrationWorkItem(wi);
    // Second abandon: 1 s for this instance only; the other one is not held back.
    const other = await lockNow(b);
    assert.equal(other.instanceId, 'healthy');
    await nothingToLock(b);
    clock.advance(999);
    await nothingToLock(b);
    clock.advance(1);
    wi = await lockNow(b);
    assert.equal(wi.instanceId, 'poison');
    const delays = [];
    for (let i = 0; i < 3; i++) {
      await b.service.abandonOrchestrationWorkItem(wi);
      const from = clock.now();
      let step = 0;
      for (; step < 100; step++) {
        const got = await b.service.lockNextOrchestrationWorkItem(0);
        if (got) {
          wi = got;
          break;
        }
        clock.advance(100);
      }
      delays.push(clock.now() - from);
    }
    assert.deepEqual(delays, [2_000, 3_000, 3_000]);
  });

  it('should return a batch that is released without complete or abandon', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    const wi = await lockNow(b);
    await b.service.releaseOrchestrationWorkItem(wi);
    await b.service.releaseOrchestrationWorkItem(wi);
    const again = await lockNow(b);
    assert.deepEqual(again.newMessages, wi.newMessages);
    await b.service.releaseOrchestrationWorkItem(wi); // a stale release does not free the new lock
    await nothingToLock(b);
  });

  it('should reject a second complete, and abandon or renew after complete', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    const wi = await lockNow(b);
    await checkpoint(b, wi);
    await rejectsCode(checkpoint(b, wi), 'LOCK_LOST', /already completed/);
    await rejectsCode(b.service.abandonOrchestrationWorkItem(wi), 'LOCK_LOST');
    await rejectsCode(b.service.renewOrchestrationWorkItemLock(wi), 'LOCK_LOST');
    await b.service.releaseOrchestrationWorkItem(wi);
    await rejectsCode(checkpoint(b, wi), 'LOCK_LOST', /released/);
    const history = await b.client.getOrchestrationHistory('x');
    assert.equal(history.filter((e) => e.type === 'OrchestratorStarted').length, 1);
  });

  it('should discard a start a checkpoint sends to its own instance, and return', async (t) => {
    const { b } = await started(t);
    const executionId = await create(b, 'self');
    const wi = await lockNow(b);
    const restart = startMessage('self', 'Test', {
      parent: { instanceId: 'self', executionId, taskScheduleId: 0 },
    });
    await checkpoint(b, wi, {
      events: [{ type: 'ExecutionCompleted', eventId: 1, orchestrationStatus: 'Failed' }],
      orchestratorMessages: [restart],
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    const states = await b.client.getOrchestrationState('self', { allExecutions: true });
    assert.deepEqual(states.map((s) => s.orchestrationStatus), ['Failed']);
    await nothingToLock(b);
  });

  it('should refuse a work item it did not issue', async (t) => {
    const { b } = await started(t);
    const { b: other } = await started(t);
    await create(other, 'x');
    const foreign = await lockNow(other);
    await rejectsCode(b.service.releaseOrchestrationWorkItem(foreign), 'INVALID_ARGUMENT');
    await rejectsCode(checkpoint(b, foreign), 'INVALID_ARGUMENT');
  });

  it('should wake waiting lock calls on new work, first come first served', async (t) => {
    const { b, clock } = await started(t);
    const w1 = b.service.lockNextOrchestrationWorkItem(60 * SECOND);
    const w2 = b.service.lockNextOrchestrationWorkItem(60 * SECOND);
    await settle();
    assert.equal(b.stats().lockWaiters, 2);
    await create(b, 'one');
    await create(b, 'two');
    const [a, c] = await Promise.all([w1, w2]);
    assert.equal(a?.instanceId, 'one');
    assert.equal(c?.instanceId, 'two');
    assert.equal(clock.pendingSleeps > 0, true); // lock deadlines are armed, no polling
    assert.equal(b.stats().lockWaiters, 0);
  });

  it('should return null on timeout and on abort, detaching the waiter', async (t) => {
    const { b, clock } = await started(t);
    const timed = b.service.lockNextOrchestrationWorkItem(5 * SECOND);
    const ac = new AbortController();
    const aborted = b.service.lockNextOrchestrationWorkItem(60 * SECOND, ac.signal);
    await settle();
    clock.advance(5 * SECOND);
    assert.equal(await timed, null);
    ac.abort();
    assert.equal(await aborted, null);
    assert.equal(b.stats().lockWaiters, 0);
    await create(b, 'x');
    await lockNow(b); // nothing was handed to a departed waiter
  });

  it('should not hand out work before start or after stop', async (t) => {
    const { b } = await started(t);
    const waiting = b.service.lockNextOrchestrationWorkItem(60 * SECOND);
    const activity = b.service.lockNextActivityWorkItem(60 * SECOND);
    await b.service.stop();
    assert.equal(await waiting, null);
    assert.equal(await activity, null);
    await rejectsCode(b.service.lockNextOrchestrationWorkItem(0), 'HUB_NOT_RUNNING', /stopped/);
    await b.service.start();
    await nothingToLock(b);
  });

  it('should turn an invalid checkpoint away with no effect, keeping the lock', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    const wi = await lockNow(b);
    const { newEvent } = await import('../../src/core/history-event.ts');
    const bad = { event: newEvent({ type: 'TimerFired', timerId: 0, fireAt: 'not a time' }),
      orchestrationInstance: { instanceId: 'x' } };
    await rejectsCode(checkpoint(b, wi, { timerMessages: [bad] }), 'INVALID_ARGUMENT', /fireAt/);
    const [state] = await b.client.getOrchestrationState('x');
    assert.equal(state?.orchestrationStatus, 'Pending');
    assert.equal(b.stats().pendingTimers, 0);
    await b.service.abandonOrchestrationWorkItem(wi);
    await b.service.releaseOrchestrationWorkItem(wi);
    await lockNow(b);
  });
});
