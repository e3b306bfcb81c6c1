import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import { CommitLog } from '../../src/nats/commit-log.ts';
import { HubResources } from '../../src/nats/hub-resources.ts';
import type { NatsBackend } from '../../src/nats/index.ts';
import { encodeInstanceId } from '../../src/nats/names.ts';
import { resolveNatsOptions } from '../../src/nats/options.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import {
  checkpoint, closeAll, completed, create, EMPTY_MS, eventually, openBackend, RECEIVE_MS,
  startedBackend, startMessage,
} from './helpers.ts';

describe('nats backend', () => {
  let server: TestNatsServer;
  const backends: NatsBackend[] = [];

  before(async () => {
    server = await startTestNatsServer();
  });
  afterEach(() => closeAll(backends));
  after(() => server.stop());

  it('should refuse locks before start and start before create', async () => {
    const b = await openBackend(server.url, backends);
    await assert.rejects(b.service.start(), (e) => isDurableTaskError(e, 'INVALID_HUB_STATE'));
    await b.service.createIfNotExists();
    await assert.rejects(b.service.lockNextOrchestrationWorkItem(10),
      (e) => isDurableTaskError(e, 'HUB_NOT_RUNNING'));
    await assert.rejects(b.service.lockNextActivityWorkItem(10),
      (e) => isDurableTaskError(e, 'HUB_NOT_RUNNING'));
    await b.service.start();
    assert.equal(await b.service.lockNextOrchestrationWorkItem(EMPTY_MS), null);
  });

  it('should refuse a process whose partitions differ from the hub with HUB_CONFIG_MISMATCH',
    async () => {
      const a = await openBackend(server.url, backends, { partitions: 2 });
      await a.service.createIfNotExists();
      const b = await openBackend(server.url, backends, { hub: a.hub, partitions: 3 });
      await assert.rejects(b.service.createIfNotExists(),
        (e) => isDurableTaskError(e, 'HUB_CONFIG_MISMATCH') &&
          /partitions/.test((e as Error).message));
    });

  it('should fail client calls on a hub that does not exist with INVALID_HUB_STATE', async () => {
    const b = await openBackend(server.url, backends);
    await assert.rejects(b.client.getOrchestrationState('x'),
      (e) => isDurableTaskError(e, 'INVALID_HUB_STATE'));
  });

  it('should lock, renew, abandon, release and complete one instance exclusively', async () => {
    const b = await startedBackend(server.url, backends);
    await create(b, 'one', '"in"');
    const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    assert.ok(wi);
    assert.equal(wi.instanceId, 'one');
    assert.equal(wi.orchestrationRuntimeState.events.length, 0);
    const before = wi.lockedUntil.getTime();
    await new Promise((r) => setTimeout(r, 50));
    await b.service.renewOrchestrationWorkItemLock(wi);
    assert.ok(wi.lockedUntil.getTime() > before, 'renew did not move lockedUntil');

    // Exclusivity: a message for the held instance does not make a second work item.
    await b.client.sendOrchestrationMessage(taskMessage(
      newEvent({ type: 'EventRaised', name: 'e', input: '1' }), { instanceId: 'one' }));
    assert.equal(await b.service.lockNextOrchestrationWorkItem(EMPTY_MS), null);

    // Abandon returns the batch; the event that arrived meanwhile follows it in order.
    await b.service.abandonOrchestrationWorkItem(wi);
    await b.service.releaseOrchestrationWorkItem(wi);
    const again = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    assert.ok(again);
    assert.deepEqual(again.newMessages.map((m) => m.event.type),
      ['ExecutionStarted', 'EventRaised']);
    await assert.rejects(b.service.completeOrchestrationWorkItem(wi, {} as never),
      (e) => isDurableTaskError(e, 'LOCK_LOST'));

    // Release without a checkpoint also returns the batch intact.
    await b.service.releaseOrchestrationWorkItem(again);
    const third = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    assert.ok(third);
    assert.equal(third.newMessages.length, 2);
    await checkpoint(b, third, { events: [completed('"done"')] });
    await b.service.releaseOrchestrationWorkItem(third);
    assert.equal(await b.service.lockNextOrchestrationWorkItem(EMPTY_MS), null);
    const [state] = await b.client.getOrchestrationState('one');
    assert.equal(state?.orchestrationStatus, 'Completed');
    assert.equal(state?.output, '"done"');
  });

  it('should consume exactly the locked batch: a message sent during an episode comes next',
    async () => {
      const b = await startedBackend(server.url, backends);
      const { executionId } = await create(b, 'exact');
      const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
      assert.ok(wi);
      await b.client.sendOrchestrationMessage(taskMessage(
        newEvent({ type: 'EventRaised', name: 'late', input: '2' }), { instanceId: 'exact' }));
      await new Promise((r) => setTimeout(r, 200));
      await checkpoint(b, wi);
      await b.service.releaseOrchestrationWorkItem(wi);
      const next = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
      assert.ok(next);
      assert.deepEqual(next.newMessages.map((m) => m.event.type), ['EventRaised']);
      assert.equal(next.orchestrationRuntimeState.executionStartedEvent?.orchestrationInstance
        .executionId, executionId);
      await b.service.releaseOrchestrationWorkItem(next);
    });

  it('should fence a stale holder: a checkpoint at an old revision is SESSION_ABORTED and ' +
    'changes nothing', async () => {
    const b = await startedBackend(server.url, backends);
    const hub = b.hub;
    await create(b, 'fenced');
    const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    assert.ok(wi);

    // Another holder commits first at the same loaded revision (0).
    const options = resolveNatsOptions({ servers: server.url, hub, partitions: 2 });
    const res = await HubResources.open(options);
    try {
      const log = new CommitLog(res);
      const token = encodeInstanceId('fenced');
      const p = res.names.partitionOf('fenced');
      const start = wi.newMessages[0]?.event;
      assert.ok(start?.type === 'ExecutionStarted');
      await log.publish(p, token, {
        v: 1, instanceId: 'fenced', executionId: start.orchestrationInstance.executionId,
        events: [start], state: { orchestrationInstance: start.orchestrationInstance, name: 'Test',
          version: '', orchestrationStatus: 'Running', createdTime: start.timestamp,
          lastUpdatedTime: start.timestamp, completedTime: null, scheduledStartTime: null },
        outbox: [], applied: [],
      }, 0, 'other-holder');
      await assert.rejects(checkpoint(b, wi, { events: [completed('"stale"')] }),
        (e) => isDurableTaskError(e, 'SESSION_ABORTED'));
      await b.service.abandonOrchestrationWorkItem(wi);
      await b.service.releaseOrchestrationWorkItem(wi);
      const history = await b.client.getOrchestrationHistory('fenced');
      assert.deepEqual(history.map((e) => e.type), ['ExecutionStarted']);
      const [state] = await b.client.getOrchestrationState('fenced');
      assert.notEqual(state?.orchestrationStatus, 'Completed');
    } finally {
      await res.close();
    }
  });

  it('should never deliver a timer before its fireAt', async () => {
    const b = await startedBackend(server.url, backends);
    const owner = await create(b, 'timer');
    const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    assert.ok(wi);
    const fireAt = new Date(Date.now() + 1_500).toISOString();
    await checkpoint(b, wi, {
      events: [{ type: 'TimerCreated', eventId: 0, fireAt }],
      timerMessages: [taskMessage(newEvent({ type: 'TimerFired', timerId: 0, fireAt }), owner)],
    });
    await b.service.releaseOrchestrationWorkItem(wi);
    const fired = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    const at = Date.now();
    assert.ok(fired);
    assert.ok(at >= Date.parse(fireAt), `delivered ${Date.parse(fireAt) - at} ms early`);
    const e = fired.newMessages[0]?.event;
    assert.ok(e?.type === 'TimerFired');
    assert.equal(e.fireAt, fireAt);
    await b.service.releaseOrchestrationWorkItem(fired);
  });

  it('should create one instance when creates of one id race', async () => {
    const b = await startedBackend(server.url, backends);
    const other = await openBackend(server.url, backends, { hub: b.hub });
    const clients = [b.client, other.client];
    const starts = Array.from({ length: 8 }, () => startMessage('race'));
    const results = await Promise.allSettled(starts.map((m, i) =>
      (clients[i % 2] ?? b.client).createOrchestration(m)));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) {
      if (r.status === 'rejected') assert.ok(isDurableTaskError(r.reason, 'INSTANCE_EXISTS'));
    }
    const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    assert.ok(wi);
    assert.equal(wi.newMessages.length, 1);
    const [state] = await b.client.getOrchestrationState('race');
    const winner = starts[results.findIndex((r) => r.status === 'fulfilled')];
    assert.equal(state?.orchestrationInstance.executionId,
      winner?.orchestrationInstance.executionId);
    await checkpoint(b, wi);
    await b.service.releaseOrchestrationWorkItem(wi);
    assert.equal(await b.service.lockNextOrchestrationWorkItem(EMPTY_MS), null);
  });

  it('[F20] should round-trip hostile ids through start, state, events, history, query, purge',
    async () => {
      const b = await startedBackend(server.url, backends);
      const ids = [' ', 'a.b', 'a*', '>', 'über/ünïcödé', 'x'.repeat(256), '😀'.repeat(256)];
      for (const id of ids) await create(b, id, '"x"');
      for (const _ of ids) {
        const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
        assert.ok(wi);
        assert.ok(ids.includes(wi.instanceId), `unexpected id ${JSON.stringify(wi.instanceId)}`);
        await checkpoint(b, wi, { events: [completed(JSON.stringify(wi.instanceId))] });
        await b.service.releaseOrchestrationWorkItem(wi);
      }
      for (const id of ids) {
        const [state] = await b.client.getOrchestrationState(id);
        assert.equal(state?.orchestrationInstance.instanceId, id);
        assert.equal(state?.output, JSON.stringify(id));
        const history = await b.client.getOrchestrationHistory(id);
        assert.equal(history.at(-2)?.type, 'ExecutionCompleted');
        const q = await b.client.queryInstances({ instanceIdPrefix: id });
        assert.ok(q.orchestrationState.some((s) => s.orchestrationInstance.instanceId === id));
        assert.equal((await b.client.purgeInstanceState(id)).deletedInstanceCount, 1);
        assert.deepEqual(await b.client.getOrchestrationState(id), []);
      }
      for (const bad of ['', 'x'.repeat(257), 'y'.repeat(10_000)]) {
        await assert.rejects(b.client.createOrchestration(startMessage(bad)),
          (e) => isDurableTaskError(e, 'INVALID_INSTANCE_ID'));
      }
    });

  it('should reject messages and purges by the rules: unknown, live, finished', async () => {
    const b = await startedBackend(server.url, backends);
    await assert.rejects(b.client.sendOrchestrationMessage(taskMessage(
      newEvent({ type: 'EventRaised', name: 'e' }), { instanceId: 'nobody' })),
    (e) => isDurableTaskError(e, 'INSTANCE_NOT_FOUND'));
    assert.equal((await b.client.purgeInstanceState('nobody')).deletedInstanceCount, 0);
    await create(b, 'live');
    await assert.rejects(b.client.purgeInstanceState('live'),
      (e) => isDurableTaskError(e, 'NOT_COMPLETED'));
    await b.client.forceTerminateOrchestration('live', '"stop"');
    const [state] = await b.client.getOrchestrationState('live');
    assert.equal(state?.orchestrationStatus, 'Terminated');
    assert.equal(state?.output, '"stop"');
    // A Pending instance terminates without running: its start is dropped.
    assert.equal(await b.service.lockNextOrchestrationWorkItem(EMPTY_MS), null);
    assert.equal((await b.client.purgeInstanceState('live')).deletedInstanceCount, 1);
  });

  it('should hold a scheduled start until its time and then start it', async () => {
    const b = await startedBackend(server.url, backends);
    const startAt = new Date(Date.now() + 1_500).toISOString();
    await b.client.createOrchestration(startMessage('later', 'Test', undefined,
      { scheduledStartTime: startAt }));
    const [pending] = await b.client.getOrchestrationState('later');
    assert.equal(pending?.orchestrationStatus, 'Pending');
    assert.equal(pending?.scheduledStartTime?.toISOString(), startAt);
    const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    assert.ok(wi);
    assert.ok(Date.now() >= Date.parse(startAt), 'scheduled start delivered early');
    assert.equal(wi.newMessages[0]?.event.type, 'ExecutionStarted');
    await b.service.releaseOrchestrationWorkItem(wi);
  });

  it('should keep large payloads and large checkpoints in the object store', async () => {
    const b = await startedBackend(server.url, backends, { payloadLimitBytes: 64 * 1024 });
    const big = JSON.stringify('p'.repeat(200 * 1024));
    await create(b, 'big', big);
    const [pending] = await b.client.getOrchestrationState('big');
    assert.ok(pending?.input === big, 'the Pending record input did not round-trip');
    const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    assert.ok(wi);
    const start = wi.newMessages[0]?.event;
    assert.ok(start?.type === 'ExecutionStarted');
    assert.ok(start.input === big, 'the start input did not round-trip');
    // Twenty 50 KiB events: a checkpoint body over the inline limit.
    const events = Array.from({ length: 20 }, (_, i) => ({
      type: 'EventRaised' as const, name: `e${i}`, input: JSON.stringify('q'.repeat(50 * 1024)),
    }));
    await checkpoint(b, wi, { events: [...events, completed(big)] });
    await b.service.releaseOrchestrationWorkItem(wi);
    const history = await b.client.getOrchestrationHistory('big');
    assert.equal(history.length, 24);
    assert.equal(history.find((e) => e.type === 'ExecutionStarted')?.type, 'ExecutionStarted');
    const done = await b.client.waitForOrchestration('big', { timeoutMs: RECEIVE_MS });
    assert.ok(done?.output === big, 'the output did not round-trip');
    const raised = history.filter((e) => e.type === 'EventRaised');
    assert.ok(raised.every((e) => e.type === 'EventRaised' && e.input?.length === 50 * 1024 + 2));
  });

  it('should return null from a wait that times out and follow the named execution', async () => {
    const b = await startedBackend(server.url, backends);
    const { executionId } = await create(b, 'waited');
    assert.equal(await b.client.waitForOrchestration('waited', { timeoutMs: 300 }), null);
    const waiting = b.client.waitForOrchestration('waited', { executionId, timeoutMs: RECEIVE_MS });
    const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    assert.ok(wi);
    await checkpoint(b, wi, { events: [completed('"ok"')] });
    await b.service.releaseOrchestrationWorkItem(wi);
    const state = await waiting;
    assert.equal(state?.orchestrationStatus, 'Completed');
    const controller = new AbortController();
    const aborted = b.client.waitForOrchestration('nobody-yet', { timeoutMs: RECEIVE_MS,
      signal: controller.signal });
    controller.abort();
    await assert.rejects(aborted, (e) => isDurableTaskError(e, 'ABORTED'));
    await eventually('state readable', async () => (await b.client.getOrchestrationState(
      'waited'))[0]);
  });
});
