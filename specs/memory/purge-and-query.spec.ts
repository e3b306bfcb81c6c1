import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import type { MemoryBackend } from '../../src/memory/index.ts';
import {
  checkpoint,
  completed,
  create,
  episode,
  lockNow,
  nothingToLock,
  owner,
  rejectsCode,
  SECOND,
  started,
  startMessage,
} from './helpers.ts';

/** Creates and completes `id` (its first episode returns). */
async function finish(b: MemoryBackend, id: string): Promise<void> {
  await create(b, id);
  await episode(b, completed());
}

describe('memory backend: purge', () => {
  it('should remove a finished instance entirely and count 0 for unknown ids', async (t) => {
    const { b } = await started(t);
    await finish(b, 'x');
    assert.deepEqual(await b.client.purgeInstanceState('x'),
      { deletedInstanceCount: 1, isComplete: true });
    assert.deepEqual(await b.client.getOrchestrationState('x'), []);
    assert.deepEqual(await b.client.getOrchestrationHistory('x'), []);
    assert.deepEqual(await b.client.purgeInstanceState('x'),
      { deletedInstanceCount: 0, isComplete: true });
  });

  it('should refuse to purge a live instance with NOT_COMPLETED', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    await rejectsCode(b.client.purgeInstanceState('x'), 'NOT_COMPLETED', /Pending/);
    assert.equal(b.stats().instances, 1);
  });

  it('should purge children recursively only when asked, and all or nothing', async (t) => {
    const { b } = await started(t);
    await create(b, 'root');
    const wi = await lockNow(b);
    const p = owner(wi);
    const parent = { instanceId: 'root', executionId: p.executionId, taskScheduleId: 0 };
    await checkpoint(b, wi, {
      events: [
        { type: 'SubOrchestrationInstanceCreated', eventId: 0, name: 'C', version: '',
          instanceId: 'c1' },
        { type: 'SubOrchestrationInstanceCreated', eventId: 1, name: 'C', version: '',
          instanceId: 'c2' },
        { type: 'ExecutionCompleted', eventId: 2, orchestrationStatus: 'Completed' },
      ],
      orchestratorMessages: [startMessage('c1', 'C', { parent }),
        startMessage('c2', 'C', { parent: { ...parent, taskScheduleId: 1 } })],
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    await episode(b, completed());
    await rejectsCode(b.client.purgeInstanceState('root', { recursive: true }), 'NOT_COMPLETED',
      /c2/);
    assert.equal(b.stats().instances, 3);
    await episode(b, completed());
    assert.deepEqual(await b.client.purgeInstanceState('root', { recursive: true }),
      { deletedInstanceCount: 3, isComplete: true });
    assert.equal(b.stats().instances, 0);
  });

  it('should remove pending messages and timers with the instance', async (t) => {
    const { b, clock } = await started(t);
    await create(b, 'x');
    const wi = await lockNow(b);
    const fireAt = new Date(clock.now() + SECOND).toISOString();
    await checkpoint(b, wi, {
      events: [{ type: 'ExecutionCompleted', eventId: 0, orchestrationStatus: 'Failed' }],
      timerMessages: [taskMessage(newEvent({ type: 'TimerFired', timerId: 0, fireAt }), owner(wi))],
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    await b.client.purgeInstanceState('x');
    await create(b, 'x');
    clock.advance(2 * SECOND);
    const fresh = await lockNow(b);
    assert.equal(fresh.newMessages.length, 1);
    assert.equal(fresh.newMessages[0]?.event.type, 'ExecutionStarted');
  });

  it('should purge by created time and status, and stop at the timeout', async (t) => {
    const { b, clock } = await started(t);
    const t0 = clock.now();
    await finish(b, 'old-1');
    await finish(b, 'old-2');
    await create(b, 'old-live');
    await episode(b);
    clock.advance(10 * SECOND);
    await finish(b, 'new-1');
    await nothingToLock(b);
    const window = { createdTimeFrom: new Date(t0), createdTimeTo: new Date(t0 + 10 * SECOND) };
    assert.deepEqual(await b.client.purgeInstances({ ...window, timeoutMs: 0 }),
      { deletedInstanceCount: 0, isComplete: false });
    assert.deepEqual(await b.client.purgeInstances({ ...window, runtimeStatus: ['Failed'] }),
      { deletedInstanceCount: 0, isComplete: null });
    assert.deepEqual(await b.client.purgeInstances({ ...window,
      runtimeStatus: ['Completed', 'Running', 'Pending'], timeoutMs: 60 * SECOND }),
    { deletedInstanceCount: 2, isComplete: true });
    const left = (await b.client.queryInstances({})).orchestrationState
      .map((s) => s.orchestrationInstance.instanceId).sort();
    assert.deepEqual(left, ['new-1', 'old-live']);
    await rejectsCode(b.client.purgeInstances({} as never), 'INVALID_ARGUMENT');
  });
});

describe('memory backend: query', () => {
  it('should page through matches in id order with a continuation token', async (t) => {
    const { b } = await started(t);
    const ids = Array.from({ length: 7 }, (_, i) => `q-${i}`);
    for (const id of ids) await create(b, id);
    await create(b, 'other');
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    for (; pages < 10; pages++) {
      const page = await b.client.queryInstances({ instanceIdPrefix: 'q-', pageSize: 3,
        continuationToken: token });
      seen.push(...page.orchestrationState.map((s) => s.orchestrationInstance.instanceId));
      token = page.continuationToken;
      if (token === null) break;
    }
    assert.deepEqual(seen, ids);
    assert.equal(pages, 2);
    await rejectsCode(b.client.queryInstances({ continuationToken: 'garbage' }),
      'INVALID_ARGUMENT', /continuation token/);
    const empty = await b.client.queryInstances({ instanceIdPrefix: 'none' });
    assert.deepEqual(empty, { orchestrationState: [], continuationToken: null });
  });

  it('should filter by status, name and created time, with or without payloads', async (t) => {
    const { b, clock } = await started(t);
    await b.client.createOrchestration(startMessage('a', 'Alpha', { input: '"in-a"' }));
    clock.advance(SECOND);
    const from = new Date(clock.now());
    await b.client.createOrchestration(startMessage('b', 'Beta', { input: '"in-b"' }));
    await episode(b, completed('"out-a"'));
    const ids = async (q: Parameters<MemoryBackend['client']['queryInstances']>[0]) =>
      (await b.client.queryInstances(q)).orchestrationState
        .map((s) => s.orchestrationInstance.instanceId);
    assert.deepEqual(await ids({ runtimeStatus: ['Completed'] }), ['a']);
    assert.deepEqual(await ids({ runtimeStatus: ['Pending', 'Running'] }), ['b']);
    assert.deepEqual(await ids({ name: 'Beta' }), ['b']);
    assert.deepEqual(await ids({ createdTimeFrom: from }), ['b']);
    assert.deepEqual(await ids({ createdTimeTo: from }), ['a']);
    const [lean] = (await b.client.queryInstances({ name: 'Alpha',
      fetchInputsAndOutputs: false })).orchestrationState;
    assert.equal(lean?.input, undefined);
    assert.equal(lean?.output, undefined);
    const [full] = (await b.client.queryInstances({ name: 'Alpha' })).orchestrationState;
    assert.equal(full?.output, '"out-a"');
    const ac = new AbortController();
    ac.abort();
    await rejectsCode(b.client.queryInstances({}, ac.signal), 'ABORTED');
  });

  it('should hand out copies that callers cannot use to change the store', async (t) => {
    const { b } = await started(t);
    await create(b, 'x');
    const [s] = await b.client.getOrchestrationState('x');
    (s as { orchestrationStatus: string }).orchestrationStatus = 'Completed';
    const [again] = await b.client.getOrchestrationState('x');
    assert.equal(again?.orchestrationStatus, 'Pending');
  });
});
