import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage, type TaskMessage } from '../../src/core/task-message.ts';
import type { ActivityWorkItem } from '../../src/core/work-item.ts';
import type { MemoryBackend } from '../../src/memory/index.ts';
import { settle } from '../support/sim-clock.ts';
import {
  checkpoint,
  create,
  eventTypes,
  lockNow,
  nothingToLock,
  owner,
  rejectsCode,
  SECOND,
  started,
} from './helpers.ts';

/** Creates an instance whose first episode schedules the given task ids. */
async function schedule(b: MemoryBackend, instanceId: string, ids: number[]):
Promise<{ instanceId: string; executionId: string }> {
  await create(b, instanceId);
  const wi = await lockNow(b);
  const own = owner(wi);
  await checkpoint(b, wi, {
    events: ids.map((id) => ({ type: 'TaskScheduled' as const, eventId: id, name: 'Work',
      version: '' })),
    activityMessages: ids.map((id) => taskMessage(newEvent({
      type: 'TaskScheduled', eventId: id, name: 'Work', version: '', input: `${id}`,
    }), own)),
  });
  await b.service.releaseOrchestrationWorkItem(wi);
  return own;
}

function result(item: ActivityWorkItem, value: string): TaskMessage {
  const ev = item.taskMessage.event;
  return taskMessage(
    newEvent({ type: 'TaskCompleted', taskScheduledId: ev.eventId, result: value }),
    item.taskMessage.orchestrationInstance);
}

async function lockActivityNow(b: MemoryBackend): Promise<ActivityWorkItem> {
  const item = await b.service.lockNextActivityWorkItem(0);
  assert.ok(item, 'expected an activity work item');
  return item;
}

describe('memory backend: activities', () => {
  it('should lease each activity to one holder and deliver its result to the owner', async (t) => {
    const { b } = await started(t);
    await schedule(b, 'x', [0, 1]);
    const a = await lockActivityNow(b);
    const c = await lockActivityNow(b);
    assert.notEqual(a.id, c.id);
    assert.equal(await b.service.lockNextActivityWorkItem(0), null);
    assert.equal(a.deliveryCount, 1);
    await b.service.completeActivityWorkItem(c, result(c, '"one"'));
    await b.service.completeActivityWorkItem(a, result(a, '"zero"'));
    const wi = await lockNow(b);
    assert.deepEqual(wi.newMessages.map((m) => m.event.type === 'TaskCompleted' && m.event.result),
      ['"one"', '"zero"']);
    assert.equal(b.stats().pendingActivities, 0);
  });

  it('should ignore a repeated completion of the same work item', async (t) => {
    const { b } = await started(t);
    await schedule(b, 'x', [0]);
    const a = await lockActivityNow(b);
    await b.service.completeActivityWorkItem(a, result(a, '1'));
    await b.service.completeActivityWorkItem(a, result(a, '2'));
    const wi = await lockNow(b);
    assert.deepEqual(eventTypes(wi), ['TaskCompleted']);
  });

  it('should redeliver a lapsed lease and fence the stale holder', async (t) => {
    const { b, clock } = await started(t, { activityLockMs: 5 * SECOND });
    await schedule(b, 'x', [0]);
    const stale = await lockActivityNow(b);
    clock.advance(5 * SECOND);
    const fresh = await lockActivityNow(b);
    assert.equal(fresh.id, stale.id);
    assert.equal(fresh.deliveryCount, 2);
    await rejectsCode(b.service.renewActivityWorkItemLock(stale), 'LOCK_LOST');
    await rejectsCode(b.service.completeActivityWorkItem(stale, result(stale, '"stale"')),
      'LOCK_LOST');
    await rejectsCode(b.service.abandonActivityWorkItem(stale), 'LOCK_LOST');
    await b.service.completeActivityWorkItem(fresh, result(fresh, '"fresh"'));
    const wi = await lockNow(b);
    assert.equal(wi.newMessages.length, 1);
    const ev = wi.newMessages[0]?.event;
    assert.ok(ev?.type === 'TaskCompleted');
    assert.equal(ev.result, '"fresh"');
  });

  it('should keep a renewed lease past the first deadline', async (t) => {
    const { b, clock } = await started(t, { activityLockMs: 5 * SECOND });
    await schedule(b, 'x', [0]);
    const a = await lockActivityNow(b);
    clock.advance(4 * SECOND);
    const renewed = await b.service.renewActivityWorkItemLock(a);
    assert.equal(renewed.lockedUntil.getTime(), clock.now() + 5 * SECOND);
    clock.advance(4 * SECOND);
    assert.equal(await b.service.lockNextActivityWorkItem(0), null);
    await b.service.completeActivityWorkItem(a, result(a, '1'));
  });

  it('should return an abandoned activity, later each time it is abandoned again', async (t) => {
    const { b, clock } = await started(t, { abandonBackoffMs: 500 });
    await schedule(b, 'x', [0]);
    let a = await lockActivityNow(b);
    await b.service.abandonActivityWorkItem(a);
    a = await lockActivityNow(b);
    assert.equal(a.deliveryCount, 2);
    await b.service.abandonActivityWorkItem(a);
    assert.equal(await b.service.lockNextActivityWorkItem(0), null);
    const waiting = b.service.lockNextActivityWorkItem(60 * SECOND);
    await settle();
    clock.advance(500);
    a = (await waiting)!;
    assert.equal(a.deliveryCount, 3);
    await rejectsCode(b.service.completeActivityWorkItem(a, taskMessage(
      newEvent({ type: 'TaskCompleted', taskScheduledId: 99 }),
      a.taskMessage.orchestrationInstance)),
    'INVALID_ARGUMENT', /task 99/);
    await b.service.completeActivityWorkItem(a, result(a, '1'));
  });

  it('should drop the result of a task whose execution is over', async (t) => {
    const { b } = await started(t);
    await schedule(b, 'x', [0]);
    await b.client.forceTerminateOrchestration('x', '"stop"');
    const wi = await lockNow(b);
    await checkpoint(b, wi, { events: [{ type: 'ExecutionCompleted', eventId: -1,
      orchestrationStatus: 'Terminated', result: '"stop"' }] });
    await b.service.releaseOrchestrationWorkItem(wi);
    const a = await lockActivityNow(b);
    await b.service.completeActivityWorkItem(a, result(a, 'late'));
    await nothingToLock(b);
  });

  it('should remove the activities of a purged instance, fencing their holders', async (t) => {
    const { b } = await started(t);
    await schedule(b, 'x', [0, 1]);
    const held = await lockActivityNow(b);
    await b.client.forceTerminateOrchestration('x');
    const wi = await lockNow(b);
    await checkpoint(b, wi, { events: [{ type: 'ExecutionCompleted', eventId: -1,
      orchestrationStatus: 'Terminated' }] });
    await b.service.releaseOrchestrationWorkItem(wi);
    await b.client.purgeInstanceState('x');
    assert.equal(b.stats().pendingActivities, 0);
    assert.equal(await b.service.lockNextActivityWorkItem(0), null);
    await rejectsCode(b.service.completeActivityWorkItem(held, result(held, '1')), 'LOCK_LOST');
  });
});
