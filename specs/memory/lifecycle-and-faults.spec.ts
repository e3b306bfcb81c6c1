import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { newEvent } from '../../src/core/history-event.ts';
import { OrchestrationRuntimeState } from '../../src/core/runtime-state.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import { createMemoryBackend } from '../../src/memory/index.ts';
import { deferred } from '../../src/util/deferred.ts';
import { settle } from '../support/sim-clock.ts';
import {
  checkpoint,
  completed,
  create,
  lockNow,
  nothingToLock,
  rejectsCode,
  SECOND,
  started,
} from './helpers.ts';

describe('memory backend: lifecycle', () => {
  it('should treat a second createIfNotExists and start on a running hub as no-ops', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    await b.service.createIfNotExists();
    await b.service.start();
    assert.equal(b.hubState, 'running');
    await lockNow(b);
  });

  it('should wait in a graceful stop for a held lock, letting its holder finish', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    const wi = await lockNow(b);
    let stopped = false;
    const stopping = b.service.stop().then(() => { stopped = true; });
    await settle();
    assert.equal(b.hubState, 'stopping');
    assert.equal(stopped, false);
    await checkpoint(b, wi, completed());
    await b.service.releaseOrchestrationWorkItem(wi);
    await stopping;
    assert.equal(b.hubState, 'stopped');
    const [s] = await b.client.getOrchestrationState('x');
    assert.equal(s?.orchestrationStatus, 'Completed');
  });

  it('should take held locks away when a graceful stop runs out of time', async (t) => {
    const { b, clock } = await started(t, { drainTimeoutMs: 5 * SECOND });
    await create(b, 'x');
    const wi = await lockNow(b);
    const stopping = b.service.stop();
    await settle();
    clock.advance(5 * SECOND);
    await stopping;
    assert.equal(b.stats().heldOrchestrationLocks, 0);
    await rejectsCode(checkpoint(b, wi, completed()), 'LOCK_LOST');
    await b.service.start();
    const again = await lockNow(b);
    assert.deepEqual(again.newMessages, wi.newMessages);
  });

  it('should take locks away at once on a forced stop, also during a graceful one', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    const wi = await lockNow(b);
    const graceful = b.service.stop();
    await settle();
    await b.service.stop({ forced: true });
    await graceful;
    assert.equal(b.hubState, 'stopped');
    await rejectsCode(b.service.renewOrchestrationWorkItemLock(wi), 'LOCK_LOST');
  });

  it('should clear queues on create, and records too unless told to keep them', async (t) => {
    const { b } = await started(t);
    await create(b, 'kept');
    await b.service.stop();
    await b.service.create({ recreateInstanceStore: false });
    const [kept] = await b.client.getOrchestrationState('kept');
    assert.equal(kept?.orchestrationStatus, 'Pending');
    await b.service.start();
    await nothingToLock(b);
    await b.service.stop();
    await b.service.create();
    assert.equal(b.stats().instances, 0);
  });

  it('should refuse create and delete while running, and client calls once deleted', async (t) => {
    const { b } = await started(t);
    await rejectsCode(b.service.create(), 'INVALID_HUB_STATE', /running/);
    await rejectsCode(b.service.delete(), 'INVALID_HUB_STATE', /running/);
    await b.service.stop();
    await b.service.delete();
    assert.equal(b.hubState, 'absent');
    await rejectsCode(b.client.getOrchestrationState('x'), 'INVALID_HUB_STATE', /absent/);
  });

  it('should close idempotently and refuse calls afterwards', async (t) => {
    const { b } = await started(t);
    const waiting = b.service.lockNextOrchestrationWorkItem(60 * SECOND);
    await Promise.all([b.close(), b.close()]);
    assert.equal(await waiting, null);
    await rejectsCode(b.service.start(), 'INVALID_STATE', /closed/);
    await rejectsCode(b.client.getOrchestrationState('x'), 'INVALID_STATE');
  });

  it('should check its options', () => {
    assert.throws(() => createMemoryBackend({ hub: 'bad name' }),
      (e: unknown) => isDurableTaskError(e, 'INVALID_HUB_NAME'));
    assert.throws(() => createMemoryBackend({ orchestrationLockMs: 0 }),
      (e: unknown) => isDurableTaskError(e, 'INVALID_ARGUMENT') &&
        /orchestrationLockMs/.test(e.message));
    assert.throws(() => createMemoryBackend({ dedupeRule: 'newest' as 'legacy' }),
      /dedupeRule/);
  });

  it('should report its policy', async (t) => {
    const { b } = await started(t,
      { maxMessagesPerCheckpoint: 3, maxConcurrentActivityWorkItems: 7 });
    const s = b.service;
    const state = new OrchestrationRuntimeState();
    assert.equal(s.isMaxMessageCountExceeded(2, state), false);
    assert.equal(s.isMaxMessageCountExceeded(3, state), true);
    assert.equal(s.maxConcurrentActivityWorkItems, 7);
    assert.equal(s.eventBehaviourForContinueAsNew, 'carryover');
    const { b: plain } = await started(t);
    assert.equal(plain.service.isMaxMessageCountExceeded(10_000, state), false);
  });
});

describe('memory backend: faults', () => {
  it('should fail an injected checkpoint with no effect; the retry commits once', async (t) => {
    const { b } = await started(t, { faults: { failCheckpoints: 1 } });
    await create(b, 'x');
    const first = await lockNow(b);
    await rejectsCode(checkpoint(b, first, completed('"one"')), 'BACKEND_ERROR', /failCheckpoints/);
    const [pending] = await b.client.getOrchestrationState('x');
    assert.equal(pending?.orchestrationStatus, 'Pending');
    await b.service.abandonOrchestrationWorkItem(first);
    await b.service.releaseOrchestrationWorkItem(first);
    const second = await lockNow(b);
    await checkpoint(b, second, completed('"two"'));
    const history = await b.client.getOrchestrationHistory('x');
    assert.equal(history.filter((e) => e.type === 'ExecutionCompleted').length, 1);
    assert.equal(b.faults.failCheckpoints, 0);
  });

  it('should fence a checkpoint that stalled until its lock lapsed', async (t) => {
    const gate = deferred<void>();
    const { b, clock } = await started(t, {
      orchestrationLockMs: 5 * SECOND,
      faults: { beforeCheckpoint: () => gate.promise },
    });
    await create(b, 'x');
    const wi = await lockNow(b);
    const stalled = checkpoint(b, wi, completed('"late"'));
    await settle();
    clock.advance(5 * SECOND);
    b.faults.beforeCheckpoint = undefined;
    const other = await lockNow(b);
    gate.resolve();
    await rejectsCode(stalled, 'LOCK_LOST');
    await checkpoint(b, other, completed('"on time"'));
    const [s] = await b.client.getOrchestrationState('x');
    assert.equal(s?.output, '"on time"');
  });

  it('should fail injected renewals and activity completions', async (t) => {
    const { b } = await started(t, { faults: { failOrchestrationRenewals: 1 } });
    await create(b, 'x');
    const wi = await lockNow(b);
    await rejectsCode(b.service.renewOrchestrationWorkItemLock(wi), 'BACKEND_ERROR');
    await b.service.renewOrchestrationWorkItemLock(wi);
    const own = wi.newMessages[0]!.orchestrationInstance;
    const scheduled = newEvent({ type: 'TaskScheduled', eventId: 0, name: 'W', version: '' });
    await checkpoint(b, wi, {
      events: [{ type: 'TaskScheduled', eventId: 0, name: 'W', version: '' }],
      activityMessages: [taskMessage(scheduled, own)],
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    b.faults.failActivityCompletions = 1;
    const item = await b.service.lockNextActivityWorkItem(0);
    assert.ok(item);
    const done = taskMessage(newEvent({ type: 'TaskCompleted', taskScheduledId: 0, result: '1' }),
      own);
    await rejectsCode(b.service.completeActivityWorkItem(item, done), 'BACKEND_ERROR');
    await nothingToLock(b);
    assert.equal(b.stats().pendingActivities, 1);
    await b.service.completeActivityWorkItem(item, done);
    const next = await lockNow(b);
    assert.equal(next.newMessages[0]?.event.type, 'TaskCompleted');
  });
});
