import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import { settle } from '../support/sim-clock.ts';
import {
  checkpoint,
  completed,
  create,
  episode,
  eventTypes,
  iso,
  lockNow,
  nothingToLock,
  owner,
  raise,
  rejectsCode,
  SECOND,
  started,
  startMessage,
} from './helpers.ts';

const DAY = 24 * 3600 * SECOND;

describe('memory backend: timers, scheduled starts and routing', () => {
  it('should never deliver a timer before fireAt, and then with that fireAt', async (t) => {
    const { b, clock } = await started(t);
    await create(b, 'x');
    const wi = await lockNow(b);
    const fireAt = iso(clock.now() + 10 * SECOND);
    await checkpoint(b, wi, {
      events: [{ type: 'TimerCreated', eventId: 0, fireAt }],
      timerMessages: [taskMessage(newEvent({ type: 'TimerFired', timerId: 0, fireAt }), owner(wi))],
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    clock.advance(10 * SECOND - 1);
    await nothingToLock(b);
    clock.advance(1);
    const fired = await lockNow(b);
    const ev = fired.newMessages[0]?.event;
    assert.ok(ev?.type === 'TimerFired');
    assert.equal(ev.fireAt, fireAt);
    assert.equal(ev.timestamp, iso(clock.now()), 'stamped on delivery');
  });

  it('should wake a waiting lock call when a timer comes due (45 days ahead)', async (t) => {
    const { b, clock } = await started(t);
    await create(b, 'far');
    const wi = await lockNow(b);
    const fireAt = iso(clock.now() + 45 * DAY);
    await checkpoint(b, wi, {
      timerMessages: [taskMessage(newEvent({ type: 'TimerFired', timerId: 1, fireAt }), owner(wi))],
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    const waiting = b.service.lockNextOrchestrationWorkItem(60 * DAY);
    await settle();
    clock.advance(45 * DAY - 1);
    await settle();
    assert.equal(b.stats().lockWaiters, 1);
    clock.advance(1);
    const got = await waiting;
    assert.equal(got?.instanceId, 'far');
  });

  it('should drop timers of a finished execution and ignore late ones', async (t) => {
    const { b, clock } = await started(t);
    await create(b, 'x');
    const wi = await lockNow(b);
    const fireAt = iso(clock.now() + SECOND);
    await checkpoint(b, wi, {
      ...completed(),
      timerMessages: [taskMessage(newEvent({ type: 'TimerFired', timerId: 0, fireAt }), owner(wi))],
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    assert.equal(b.stats().pendingTimers, 0);
    clock.advance(2 * SECOND);
    await nothingToLock(b);
  });

  it('should hold a scheduled start and the messages behind it until the start time', async (t) => {
    const { b, clock } = await started(t);
    const at = clock.now() + 30 * SECOND;
    await create(b, 'later', { scheduledStartTime: iso(at) });
    await create(b, 'now');
    await b.client.sendOrchestrationMessage(raise('later', 'early'));
    assert.equal((await lockNow(b)).instanceId, 'now');
    const waiting = b.service.lockNextOrchestrationWorkItem(60 * SECOND);
    await settle();
    clock.advance(30 * SECOND - 1);
    await settle();
    assert.equal(b.stats().lockWaiters, 1);
    clock.advance(1);
    const wi = await waiting;
    assert.equal(wi?.instanceId, 'later');
    assert.deepEqual(wi && eventTypes(wi), ['ExecutionStarted', 'EventRaised']);
    const [state] = await b.client.getOrchestrationState('later');
    assert.equal(state?.scheduledStartTime?.getTime(), at);
  });

  it('should terminate a scheduled Pending instance at once, running nothing', async (t) => {
    const { b, clock } = await started(t);
    await create(b, 'later', { scheduledStartTime: iso(clock.now() + DAY) });
    await b.client.forceTerminateOrchestration('later', '"not needed"');
    const [state] = await b.client.getOrchestrationState('later');
    assert.equal(state?.orchestrationStatus, 'Terminated');
    assert.equal(state?.output, '"not needed"');
    assert.ok(state?.completedTime);
    clock.advance(2 * DAY);
    await nothingToLock(b);
    assert.deepEqual(await b.client.getOrchestrationHistory('later'), []);
  });

  it('should reject client messages to unknown instances and send none of the batch', async (t) => {
    const { b } = await started(t);
    await create(b, 'known');
    await rejectsCode(b.client.sendOrchestrationMessageBatch([raise('known', 'a'),
      raise('ghost', 'b')]), 'INSTANCE_NOT_FOUND', /ghost/);
    const wi = await lockNow(b);
    assert.deepEqual(eventTypes(wi), ['ExecutionStarted']);
    await rejectsCode(b.client.sendOrchestrationMessage(startMessage('known')), 'INVALID_ARGUMENT');
    await rejectsCode(b.client.forceTerminateOrchestration('ghost'), 'INSTANCE_NOT_FOUND');
  });

  it('should discard messages to finished instances and to other executions', async (t) => {
    const { b } = await started(t);
    const exec = await create(b, 'x');
    await episode(b);
    await b.client.sendOrchestrationMessage(raise('x', 'stale', undefined, 'another-execution'));
    await b.client.sendOrchestrationMessage(raise('x', 'mine', undefined, exec));
    const wi = await lockNow(b);
    assert.deepEqual(wi.newMessages.map((m) => m.event.type === 'EventRaised' && m.event.name),
      ['mine']);
    await checkpoint(b, wi, completed());
    await b.client.sendOrchestrationMessage(raise('x', 'too late'));
    await b.service.releaseOrchestrationWorkItem(wi);
    await nothingToLock(b);
  });

  it('should drop what arrived for the old execution when an instance is re-created', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    await episode(b, completed());
    await create(b, 'x');
    const wi = await lockNow(b);
    assert.deepEqual(eventTypes(wi), ['ExecutionStarted']);
    assert.equal(wi.orchestrationRuntimeState.events.length, 0, 're-created: empty state');
  });

  it('should drop what arrived during the episode that finished the instance', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    const wi = await lockNow(b);
    await b.client.sendOrchestrationMessage(raise('x', 'late'));
    await checkpoint(b, wi, completed());
    await b.service.releaseOrchestrationWorkItem(wi);
    await nothingToLock(b);
  });

  it('should create a Pending child on a checkpoint and start it next', async (t) => {
    const { b } = await started(t);
    await create(b, 'parent');
    const wi = await lockNow(b);
    const p = owner(wi);
    const child = startMessage('parent:0', 'Child', {
      parent: { instanceId: 'parent', executionId: p.executionId, taskScheduleId: 0 },
    });
    const event = raise('parent:0', 'hello');
    await checkpoint(b, wi, {
      events: [{ type: 'SubOrchestrationInstanceCreated', eventId: 0, name: 'Child', version: '',
        instanceId: 'parent:0' }],
      orchestratorMessages: [child, event],
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    const [state] = await b.client.getOrchestrationState('parent:0');
    assert.equal(state?.orchestrationStatus, 'Pending');
    assert.equal(state?.parentInstance?.orchestrationInstance.instanceId, 'parent');
    const cw = await lockNow(b);
    assert.equal(cw.instanceId, 'parent:0');
    assert.deepEqual(eventTypes(cw), ['ExecutionStarted', 'EventRaised']);
  });

  it('should drop a child start for a live instance and replace a finished one', async (t) => {
    const { b } = await started(t);
    await create(b, 'live');
    await create(b, 'done');
    await episode(b);
    await episode(b, completed());
    await create(b, 'parent');
    const wi = await lockNow(b);
    const p = owner(wi);
    const parent = { instanceId: 'parent', executionId: p.executionId, taskScheduleId: 0 };
    const toLive = startMessage('live', 'Child', { parent });
    const toDone = startMessage('done', 'Child', { parent: { ...parent, taskScheduleId: 1 } });
    await checkpoint(b, wi, { orchestratorMessages: [toLive, toDone] });
    await b.service.releaseOrchestrationWorkItem(wi);
    const [live] = await b.client.getOrchestrationState('live');
    assert.equal(live?.orchestrationStatus, 'Running');
    const [done] = await b.client.getOrchestrationState('done');
    assert.equal(done?.orchestrationStatus, 'Pending');
    assert.equal(done?.orchestrationInstance.executionId,
      toDone.orchestrationInstance.executionId);
    const next = await lockNow(b);
    assert.equal(next.instanceId, 'done');
    assert.equal(next.orchestrationRuntimeState.events.length, 0);
    await nothingToLock(b);
  });

  it('should discard instance-to-instance messages to unknown instances', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    await episode(b, { orchestratorMessages: [raise('nobody', 'hi')] });
    await nothingToLock(b);
    assert.equal(b.stats().instances, 1);
  });
});
