import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent } from '../../src/core/history-event.ts';
import {
  buildOrchestrationState,
  OrchestrationRuntimeState,
} from '../../src/core/runtime-state.ts';
import { settle } from '../support/sim-clock.ts';
import {
  checkpoint,
  completed,
  create,
  episode,
  eventTypes,
  lockNow,
  nothingToLock,
  owner,
  rejectsCode,
  SECOND,
  started,
  startMessage,
} from './helpers.ts';

describe('memory backend: creation and dedupe', () => {
  it('should write a Pending record and refuse a second create while live', async (t) => {
    const { b, clock } = await started(t);
    const exec = await create(b, 'x', { input: '"in"', tags: { a: 'b' } });
    const [state] = await b.client.getOrchestrationState('x');
    assert.equal(state?.orchestrationStatus, 'Pending');
    assert.equal(state?.orchestrationInstance.executionId, exec);
    assert.equal(state?.input, '"in"');
    assert.deepEqual(state?.tags, { a: 'b' });
    assert.equal(state?.createdTime.getTime(), clock.now());
    assert.equal(state?.completedTime, null);
    await rejectsCode(create(b, 'x'), 'INSTANCE_EXISTS', /Pending/);
    await episode(b);
    await rejectsCode(create(b, 'x'), 'INSTANCE_EXISTS', /Running/);
  });

  it('should let exactly one of many racing creates of one id win', async (t) => {
    const { b } = await started(t);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => create(b, 'race')));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.equal(r.reason.code, 'INSTANCE_EXISTS');
    }
    const wi = await lockNow(b);
    assert.deepEqual(eventTypes(wi), ['ExecutionStarted']);
    await nothingToLock(b);
  });

  it('should replace a finished instance by default, keeping the old record', async (t) => {
    const { b } = await started(t);
    const first = await create(b, 'x');
    await episode(b, completed());
    const second = await create(b, 'x');
    const all = await b.client.getOrchestrationState('x', { allExecutions: true });
    assert.deepEqual(all.map((s) => [s.orchestrationInstance.executionId, s.orchestrationStatus]),
      [[second, 'Pending'], [first, 'Completed']]);
    const [latest] = await b.client.getOrchestrationState('x');
    assert.equal(latest?.orchestrationInstance.executionId, second);
  });

  it('should terminate and replace a live instance its dedupe list does not block', async (t) => {
    const { b } = await started(t);
    const first = await create(b, 'x');
    const holder = await lockNow(b);
    const second = startMessage('x');
    await b.client.createOrchestration(second, { dedupeStatuses: [] });
    const old = await b.client.getOrchestrationStateOfExecution('x', first);
    assert.equal(old?.orchestrationStatus, 'Terminated');
    await rejectsCode(checkpoint(b, holder, completed()), 'LOCK_LOST');
    const wi = await lockNow(b);
    assert.equal(owner(wi).executionId, second.orchestrationInstance.executionId);
  });

  it('should block with a custom list only the listed statuses', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    await episode(b, completed());
    await rejectsCode(b.client.createOrchestration(startMessage('x'),
      { dedupeStatuses: ['Completed'] }), 'INSTANCE_EXISTS', /Completed/);
    await rejectsCode(b.client.createOrchestration(startMessage('x'),
      { dedupeStatuses: ['Bogus' as 'Completed'] }), 'INVALID_ARGUMENT');
  });

  it('should block any existing record under the legacy rule without a list', async (t) => {
    const { b } = await started(t, { dedupeRule: 'legacy' });
    await create(b, 'x');
    await episode(b, completed());
    await rejectsCode(create(b, 'x'), 'INSTANCE_EXISTS');
    await b.client.createOrchestration(startMessage('x'), { dedupeStatuses: ['Running'] });
  });

  it('should validate creation input at the API', async (t) => {
    const { b } = await started(t);
    await rejectsCode(create(b, ''), 'INVALID_INSTANCE_ID');
    await rejectsCode(create(b, 'x'.repeat(257)), 'INVALID_INSTANCE_ID');
    const notStart = { event: newEvent({ type: 'EventRaised', name: 'e' }),
      orchestrationInstance: { instanceId: 'x', executionId: 'e1' } };
    await rejectsCode(b.client.createOrchestration(notStart), 'INVALID_ARGUMENT',
      /ExecutionStarted/);
    const msg = startMessage('x');
    await rejectsCode(b.client.createOrchestration({ ...msg,
      orchestrationInstance: { instanceId: 'y' } }), 'INVALID_ARGUMENT', /routed/);
    await rejectsCode(create(b, 'x', { scheduledStartTime: 'tomorrow' }), 'INVALID_ARGUMENT');
    assert.equal(b.stats().instances, 0);
    for (const id of [' ', 'a.b', 'a*', '>', 'über/ünïcödé', 'x'.repeat(256)]) {
      await create(b, id);
      const [s] = await b.client.getOrchestrationState(id);
      assert.equal(s?.orchestrationInstance.instanceId, id);
    }
  });

  it('should fail client calls before the hub is created', async (t) => {
    const { createMemoryBackend } = await import('../../src/memory/index.ts');
    const b = createMemoryBackend({ hub: 'fresh' });
    t.after(() => b.close());
    await rejectsCode(create(b, 'x'), 'INVALID_HUB_STATE', /absent/);
    await rejectsCode(b.service.start(), 'INVALID_HUB_STATE');
    await b.service.createIfNotExists();
    await create(b, 'x');
    await rejectsCode(b.service.lockNextOrchestrationWorkItem(0), 'HUB_NOT_RUNNING', /created/);
  });
});

describe('memory backend: waits', () => {
  it('should resolve when the instance finishes and clean up its listeners', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    const waiting = b.client.waitForOrchestration('x', { timeoutMs: 60 * SECOND });
    await settle();
    assert.equal(b.stats().watchedInstances, 1);
    await episode(b, completed('"ok"'));
    const state = await waiting;
    assert.equal(state?.orchestrationStatus, 'Completed');
    assert.equal(b.stats().watchedInstances, 0);
  });

  it('should return null on timeout and reject on abort', async (t) => {
    const { b, clock } = await started(t);
    await create(b, 'x');
    const timed = b.client.waitForOrchestration('x', { timeoutMs: 5 * SECOND });
    const ac = new AbortController();
    const aborted = b.client.waitForOrchestration('x', { timeoutMs: 60 * SECOND,
      signal: ac.signal });
    await settle();
    clock.advance(5 * SECOND);
    assert.equal(await timed, null);
    ac.abort();
    await rejectsCode(aborted, 'ABORTED');
    assert.equal(await b.client.waitForOrchestration('x', { timeoutMs: 0 }), null);
    assert.equal(b.stats().watchedInstances, 0);
  });

  it('should follow continue-as-new when no execution is named, and stop there if one is',
    async (t) => {
    const { b } = await started(t);
    const first = await create(b, 'x', { input: '1' });
    const latest = b.client.waitForOrchestration('x', { timeoutMs: 60 * SECOND });
    const pinned = b.client.waitForOrchestration('x',
      { executionId: first, timeoutMs: 60 * SECOND });
    const wi = await lockNow(b);
    // The dispatcher's continue-as-new: the old state ends with ContinueAsNew; a new one starts.
    const old = wi.orchestrationRuntimeState;
    old.addEvent(newEvent({ type: 'OrchestratorStarted' }));
    old.addEvent(wi.newMessages[0]!.event);
    old.addEvent(newEvent({ type: 'ContinueAsNew', eventId: 0,
      orchestrationStatus: 'ContinuedAsNew', result: '2' }));
    const next = new OrchestrationRuntimeState();
    next.addEvent(newEvent({ type: 'OrchestratorStarted' }));
    next.addEvent(startMessage('x', 'Test', { executionId: 'second', input: '2' }).event);
    next.addEvent(newEvent({ type: 'OrchestratorCompleted' }));
    await b.service.completeOrchestrationWorkItem(wi, {
      newRuntimeState: next, activityMessages: [], orchestratorMessages: [], timerMessages: [],
      continuedAsNewMessage: null, orchestrationState: buildOrchestrationState(next),
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    const pinnedState = await pinned;
    assert.equal(pinnedState?.orchestrationStatus, 'ContinuedAsNew');
    assert.equal(pinnedState?.output, '2');
    const [current] = await b.client.getOrchestrationState('x');
    assert.equal(current?.orchestrationInstance.executionId, 'second');
    assert.equal(current?.orchestrationStatus, 'Running');
    assert.equal(current?.input, '2');
    const oldHistory = await b.client.getOrchestrationHistory('x', first);
    assert.equal(oldHistory.at(-1)?.type, 'ContinueAsNew');
    assert.equal((await b.client.getOrchestrationHistory('x')).length, 3);
    await b.client.sendOrchestrationMessage({ event: newEvent({ type: 'EventRaised', name: 'go' }),
      orchestrationInstance: { instanceId: 'x' } });
    await episode(b, completed('"final"'));
    const final = await latest;
    assert.equal(final?.orchestrationInstance.executionId, 'second');
    assert.equal(final?.output, '"final"');
  });

  it('should end pending waits with null when the hub stops', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    const waiting = b.client.waitForOrchestration('x', { timeoutMs: 60 * SECOND });
    await settle();
    await b.service.stop();
    assert.equal(await waiting, null);
    assert.equal(b.stats().watchedInstances, 0);
  });
});

describe('memory backend: terminate', () => {
  it('should send ExecutionTerminated without an execution id to a running instance', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    await episode(b);
    await b.client.forceTerminateOrchestration('x', '"why"');
    const wi = await lockNow(b);
    const ev = wi.newMessages[0];
    assert.equal(ev?.event.type, 'ExecutionTerminated');
    assert.equal(ev?.orchestrationInstance.executionId, undefined);
    assert.ok(ev?.event.type === 'ExecutionTerminated');
    assert.equal(ev.event.input, '"why"');
  });

  it('should terminate live children recursively; a Pending child tells its parent', async (t) => {
    const { b } = await started(t);
    await create(b, 'root');
    const wi = await lockNow(b);
    const root = owner(wi);
    const parent = { instanceId: 'root', executionId: root.executionId, taskScheduleId: 0 };
    await checkpoint(b, wi, {
      events: [
        { type: 'SubOrchestrationInstanceCreated', eventId: 0, name: 'C', version: '',
          instanceId: 'c-running' },
        { type: 'SubOrchestrationInstanceCreated', eventId: 1, name: 'C', version: '',
          instanceId: 'c-pending' },
      ],
      orchestratorMessages: [startMessage('c-running', 'C', { parent }),
        startMessage('c-pending', 'C', { parent: { ...parent, taskScheduleId: 1 } })],
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    await episode(b); // c-running starts
    await b.client.forceTerminateOrchestration('root', '"all"', { recursive: true });
    const [pending] = await b.client.getOrchestrationState('c-pending');
    assert.equal(pending?.orchestrationStatus, 'Terminated');
    const got = new Map<string, string[]>();
    for (let i = 0; i < 2; i++) {
      const item = await lockNow(b);
      got.set(item.instanceId, eventTypes(item));
    }
    assert.deepEqual(got.get('c-running'), ['ExecutionTerminated']);
    assert.deepEqual(got.get('root'), ['ExecutionTerminated', 'SubOrchestrationInstanceFailed']);
  });

  it('should ignore a terminate of a finished instance', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    await episode(b, completed());
    await b.client.forceTerminateOrchestration('x', '"late"');
    await nothingToLock(b);
    const [s] = await b.client.getOrchestrationState('x');
    assert.equal(s?.orchestrationStatus, 'Completed');
  });
});
