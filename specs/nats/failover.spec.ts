import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import type { NatsBackend } from '../../src/nats/index.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import {
  checkpoint, closeAll, completed, create, EMPTY_MS, eventually, RECEIVE_MS,
  startedBackend,
} from './helpers.ts';

/** Creates `id` and checkpoints its first episode, which schedules activity 'Work' as task 0. */
async function scheduleWork(b: NatsBackend, id: string): Promise<{ instanceId: string;
  executionId: string }> {
  const owner = await create(b, id);
  const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
  assert.ok(wi, `no work item for '${id}'`);
  const scheduled = newEvent({ type: 'TaskScheduled', eventId: 0, name: 'Work', version: '' });
  await checkpoint(b, wi, {
    events: [{ type: 'TaskScheduled', eventId: 0, name: 'Work', version: '' }],
    activityMessages: [taskMessage(scheduled, owner)],
  });
  await b.service.releaseOrchestrationWorkItem(wi);
  return owner;
}

describe('nats partitions and relay', () => {
  let server: TestNatsServer;
  const backends: NatsBackend[] = [];

  before(async () => {
    server = await startTestNatsServer();
  });
  afterEach(() => closeAll(backends));
  after(() => server.stop());

  it('should move a partition to a second worker when the first stops renewing, and fence ' +
    'the first', async () => {
    let paused = false;
    const a = await startedBackend(server.url, backends, { partitions: 1,
      faults: { pauseLeases: () => paused } });
    await create(a, 'moving');
    const stale = await a.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    assert.ok(stale);
    paused = true;

    const b = await startedBackend(server.url, backends, { hub: a.hub, partitions: 1 });
    const taken = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
    assert.ok(taken, 'the second worker never got the instance');
    assert.deepEqual(b.ownedPartitions(), [0]);
    assert.deepEqual(taken.newMessages.map((m) => m.event.type), ['ExecutionStarted']);
    await checkpoint(b, taken, { events: [completed('"from b"')] });
    await b.service.releaseOrchestrationWorkItem(taken);

    // The paused holder's lease has lapsed: its checkpoint is refused and changes nothing.
    await assert.rejects(checkpoint(a, stale, { events: [completed('"from a"')] }),
      (e) => isDurableTaskError(e, 'LOCK_LOST') || isDurableTaskError(e, 'SESSION_ABORTED'));
    await a.service.releaseOrchestrationWorkItem(stale);
    const [state] = await b.client.getOrchestrationState('moving');
    assert.equal(state?.output, '"from b"');
    const history = await b.client.getOrchestrationHistory('moving');
    assert.equal(history.filter((e) => e.type === 'ExecutionCompleted').length, 1);
  });

  it('should let the relay send the outbox of a commit whose sender died before sending',
    async () => {
      const a = await startedBackend(server.url, backends, { partitions: 1, faults: {
        afterCommit: () => 'skip', beforeRelay: () => 'skip',
      } });
      const owner = await create(a, 'orphan');
      const wi = await a.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
      assert.ok(wi);
      const scheduled = newEvent({ type: 'TaskScheduled', eventId: 0, name: 'Work', version: '' });
      await checkpoint(a, wi, {
        events: [{ type: 'TaskScheduled', eventId: 0, name: 'Work', version: '' }],
        activityMessages: [taskMessage(scheduled, owner)],
      });
      // The sender "died" right after its commit: nothing was sent, nothing acked.
      assert.equal(await a.service.lockNextActivityWorkItem(EMPTY_MS), null);
      await a.service.stop({ forced: true });
      await a.close();

      const b = await startedBackend(server.url, backends, { hub: a.hub, partitions: 1 });
      const activity = await b.service.lockNextActivityWorkItem(RECEIVE_MS);
      assert.ok(activity, 'the relay did not send the activity');
      assert.equal(activity.taskMessage.event.type, 'TaskScheduled');
      assert.equal(activity.taskMessage.orchestrationInstance.executionId, owner.executionId);
      const [state] = await eventually('record written by the relay', async () => {
        const s = await b.client.getOrchestrationState('orphan');
        return s[0]?.orchestrationStatus === 'Running' ? s : undefined;
      });
      assert.equal(state?.orchestrationStatus, 'Running');
      // The consumed start comes back to the new owner and is skipped as already applied.
      await b.service.completeActivityWorkItem(activity, taskMessage(
        newEvent({ type: 'TaskCompleted', taskScheduledId: 0, result: '1' }), owner));
      const next = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
      assert.ok(next);
      assert.deepEqual(next.newMessages.map((m) => m.event.type), ['TaskCompleted']);
      assert.equal(next.orchestrationRuntimeState.events.length, 4);
      await b.service.releaseOrchestrationWorkItem(next);
    });

  it('should resend, at takeover, the outbox of a commit whose owner stopped renewing before ' +
    'sending it (no hand-back, no mark for that commit)', async () => {
    let paused = false;
    const a = await startedBackend(server.url, backends, { partitions: 1, faults: {
      afterCommit: () => 'skip', pauseLeases: () => paused,
    } });
    const owner = await scheduleWork(a, 'stalled');
    // The owner stalls right after its commit: it sends nothing and hands nothing back.
    paused = true;
    assert.equal(await a.service.lockNextActivityWorkItem(EMPTY_MS), null);

    const b = await startedBackend(server.url, backends, { hub: a.hub, partitions: 1 });
    await eventually('the partition moved to the second worker', async () =>
      b.ownedPartitions().length === 1 ? true : undefined);
    // The stalled process's activity puller would compete for the resent activity.
    await a.service.stop({ forced: true });
    const activity = await b.service.lockNextActivityWorkItem(RECEIVE_MS);
    assert.ok(activity, 'the new owner did not resend the activity');
    assert.equal(activity.taskMessage.orchestrationInstance.executionId, owner.executionId);
    await eventually('record written by the new owner', async () => {
      const s = await b.client.getOrchestrationState('stalled');
      return s[0]?.orchestrationStatus === 'Running' ? s : undefined;
    });
  });

  it('should send the outbox of a stale holder\'s commit that lands after the takeover scan',
    async () => {
      let paused = false;
      let land: () => void = () => undefined;
      const onWire = new Promise<void>((resolve) => {
        land = resolve;
      });
      const a = await startedBackend(server.url, backends, { partitions: 1, faults: {
        afterCommit: () => 'skip', pauseLeases: () => paused,
        beforeCommitPublish: ({ instanceId }) => (instanceId === 'late' ? onWire : undefined),
      } });
      const owner = await create(a, 'late');
      const wi = await a.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
      assert.ok(wi);
      const scheduled = newEvent({ type: 'TaskScheduled', eventId: 0, name: 'Work', version: '' });
      // The commit passes its lock checks, then waits "on the wire".
      const stale = checkpoint(a, wi, {
        events: [{ type: 'TaskScheduled', eventId: 0, name: 'Work', version: '' }],
        activityMessages: [taskMessage(scheduled, owner)],
      });
      paused = true;

      const b = await startedBackend(server.url, backends, { hub: a.hub, partitions: 1 });
      // B fetches only after its takeover scan: a work item for a new instance proves it ran.
      await create(b, 'probe');
      let probe = null;
      for (let i = 0; i < 5 && !probe; i++) {
        const got = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
        assert.ok(got, 'the second worker handed out nothing');
        if (got.instanceId === 'probe') probe = got;
        else await b.service.releaseOrchestrationWorkItem(got);
      }
      assert.ok(probe);
      await b.service.releaseOrchestrationWorkItem(probe);

      land();
      await stale;
      // The stale process "dies" after its commit landed: it sent nothing.
      await a.service.stop({ forced: true });
      const activity = await b.service.lockNextActivityWorkItem(RECEIVE_MS);
      assert.ok(activity, 'the late commit\'s activity was never sent');
      assert.equal(activity.taskMessage.orchestrationInstance.executionId, owner.executionId);
      assert.equal(activity.taskMessage.event.eventId, 0);
    });

  it('should keep a child from running when a recursive terminate comes before its start is sent',
    async () => {
      const a = await startedBackend(server.url, backends, { partitions: 1, faults: {
        afterCommit: () => 'skip', beforeRelay: () => 'skip',
      } });
      const parent = await create(a, 'rp');
      const wi = await a.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
      assert.ok(wi);
      const kid = { instanceId: 'rp kid', executionId: 'kidexec1' };
      const start = newEvent({ type: 'ExecutionStarted', orchestrationInstance: kid, name: 'Kid',
        version: '', parentInstance: { name: 'Test', version: '', orchestrationInstance: parent,
          taskScheduleId: 0 } });
      await checkpoint(a, wi, {
        events: [{ type: 'SubOrchestrationInstanceCreated', eventId: 0, name: 'Kid',
          version: '', instanceId: kid.instanceId }],
        orchestratorMessages: [taskMessage(start, kid)],
      });
      // The sender "died" after its commit: the child has no record and no start yet.
      await a.service.stop({ forced: true });
      assert.deepEqual(await a.client.getOrchestrationState(kid.instanceId), []);
      await a.client.forceTerminateOrchestration('rp', '"bye"', { recursive: true });
      const [terminated] = await a.client.getOrchestrationState(kid.instanceId);
      assert.equal(terminated?.orchestrationStatus, 'Terminated');
      assert.equal(terminated?.orchestrationInstance.executionId, kid.executionId);

      // The next owner sends the parent's outbox: the child's start arrives and is dropped.
      const b = await startedBackend(server.url, backends, { hub: a.hub, partitions: 1 });
      for (let i = 0; i < 5; i++) {
        const next = await b.service.lockNextOrchestrationWorkItem(i === 0 ? RECEIVE_MS : EMPTY_MS);
        if (!next) break;
        assert.notEqual(next.instanceId, kid.instanceId, 'the terminated child was handed out');
        await b.service.releaseOrchestrationWorkItem(next);
      }
      const [after] = await b.client.getOrchestrationState(kid.instanceId);
      assert.equal(after?.orchestrationStatus, 'Terminated');
      assert.deepEqual(await b.client.getOrchestrationHistory(kid.instanceId), []);
    });

  it('should give a force-stopped worker\'s activity to the next worker, not lose a delivery',
    async () => {
      const a = await startedBackend(server.url, backends, { partitions: 1 });
      await scheduleWork(a, 'handback');
      const held = await a.service.lockNextActivityWorkItem(RECEIVE_MS);
      assert.ok(held, 'the first worker did not get the activity');
      // The first worker's next pull is still open at the server when it stops by force.
      await a.service.stop({ forced: true });
      const b = await startedBackend(server.url, backends, { hub: a.hub, partitions: 1 });
      const taken = await b.service.lockNextActivityWorkItem(RECEIVE_MS);
      // Within the 30 s lock, as the second delivery: none went to the stopped worker's pull.
      assert.ok(taken, 'the next worker did not get the activity before the lock lapsed');
      assert.equal(taken.taskMessage.event.eventId, 0);
      assert.equal(taken.deliveryCount, 2);
    });

  it('should load the whole current execution after a takeover, back to its first commit',
    async () => {
      const a = await startedBackend(server.url, backends, { partitions: 1 });
      const owner = await create(a, 'long');
      let expected = 0;
      for (let i = 0; i < 3; i++) {
        const wi = await a.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
        assert.ok(wi);
        assert.equal(wi.orchestrationRuntimeState.events.length, expected);
        await checkpoint(a, wi, { events: [{ type: 'GenericEvent', data: `"${i}"` }] });
        expected = wi.orchestrationRuntimeState.events.length;
        await a.service.releaseOrchestrationWorkItem(wi);
        await a.client.sendOrchestrationMessage(taskMessage(
          newEvent({ type: 'EventRaised', name: `e${i}` }), owner));
      }
      await a.service.stop();
      const b = await startedBackend(server.url, backends, { hub: a.hub, partitions: 1 });
      const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
      assert.ok(wi);
      assert.equal(wi.orchestrationRuntimeState.events.length, expected);
      assert.deepEqual(wi.orchestrationRuntimeState.events
        .filter((e) => e.type === 'GenericEvent').map((e) => e.type === 'GenericEvent' && e.data),
      ['"0"', '"1"', '"2"']);
      assert.deepEqual(wi.newMessages.map((m) => m.event.type), ['EventRaised']);
      await b.service.releaseOrchestrationWorkItem(wi);
    });

  it('should balance partitions over the live workers', async () => {
    const a = await startedBackend(server.url, backends, { partitions: 4 });
    await eventually('first worker owns all', () => a.ownedPartitions().length === 4);
    const b = await startedBackend(server.url, backends, { hub: a.hub, partitions: 4 });
    await eventually('two each', () =>
      a.ownedPartitions().length === 2 && b.ownedPartitions().length === 2, 30_000);
    const all = [...a.ownedPartitions(), ...b.ownedPartitions()].sort();
    assert.deepEqual(all, [0, 1, 2, 3]);
  });
});
