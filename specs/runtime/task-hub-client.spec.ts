import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDurableTaskError } from '../../src/core/errors.ts';
import type { Orchestrator } from '../../src/runtime/orchestration-context.ts';
import { TaskHubClient } from '../../src/runtime/task-hub-client.ts';
import { memoryHub, output } from './memory-hub.ts';

const WAIT = { timeoutMs: 30_000 };

/** Polls `cond` every 20 ms for at most 10 s. */
async function until(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('condition not reached in 10 s');
}

const waiter: Orchestrator = function* (ctx) {
  const v = yield ctx.waitForExternalEvent('Go');
  return v;
};

describe('TaskHubClient', () => {
  it('should refuse a client without a backend', () => {
    assert.throws(() => new TaskHubClient({}), (e) => isDurableTaskError(e, 'INVALID_ARGUMENT'));
  });

  it('should mint 32-hex ids and validate every input with coded errors', async (t) => {
    const hub = await memoryHub(t, { setup: (w) => w.addOrchestration('W', waiter) });
    if (!hub) return;
    const c = hub.client;
    const { instanceId, executionId } = await c.createOrchestrationInstance('W');
    assert.match(instanceId, /^[0-9a-f]{32}$/);
    assert.match(executionId, /^[0-9a-f]{32}$/);

    await assert.rejects(c.createOrchestrationInstance('W', { input: { a: { f: () => 1 } } }),
      (e) => isDurableTaskError(e, 'NOT_SERIALIZABLE')
        && /orchestration input.*\$\.a\.f/.test(e.message));
    await assert.rejects(c.createOrchestrationInstance('W', { instanceId: '' }),
      (e) => isDurableTaskError(e, 'INVALID_INSTANCE_ID'));
    await assert.rejects(c.createOrchestrationInstance('', {}),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(c.createOrchestrationInstance('W',
      { tags: { n: 1 as unknown as string } }),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /tag "n"/.test(e.message));
    await assert.rejects(c.createOrchestrationInstance('W', { tags: { n: 'x'.repeat(3e6) } }),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /tags take about/.test(e.message));
    await assert.rejects(c.createOrchestrationInstance('W', { version: 'v'.repeat(3e6) }),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /version is longer/.test(e.message));
    await assert.rejects(c.raiseEvent('some-id', 'e'.repeat(3e6)),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /event name is longer/.test(e.message));
    await assert.rejects(c.createOrchestrationInstance('W', { startAt: new Date('nope') }),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(c.createOrchestrationInstance('W', { dedupeStatuses: ['Bogus' as never] }),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(c.raiseEvent(instanceId, 'Go', 10n),
      (e) => isDurableTaskError(e, 'NOT_SERIALIZABLE') && /bigint/.test(e.message));
    await assert.rejects(c.waitForOrchestration(instanceId, { timeoutMs: -1 }),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(c.queryInstances({ pageSize: 0 }),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT'));
  });

  it('should deliver an initial event after the start, and raise events', async (t) => {
    const hub = await memoryHub(t, { setup: (w) => w.addOrchestration('W', waiter) });
    if (!hub) return;
    const { instanceId } = await hub.client.createOrchestrationInstance('W', {
      instanceId: 'with-event', initialEvent: { name: 'Go', data: { ok: true } },
    });
    assert.equal(instanceId, 'with-event');
    const state = await hub.client.waitForOrchestration(instanceId, WAIT);
    assert.deepEqual(output(state), { ok: true });
  });

  it('should return null when the wait times out', async (t) => {
    const hub = await memoryHub(t, { setup: (w) => w.addOrchestration('W', waiter) });
    if (!hub) return;
    const { instanceId } = await hub.client.createOrchestrationInstance('W');
    assert.equal(await hub.client.waitForOrchestration(instanceId, { timeoutMs: 50 }), null);
  });

  it('should terminate with the reason as JSON output and read states and history', async (t) => {
    const hub = await memoryHub(t, { setup: (w) => w.addOrchestration('W', waiter) });
    if (!hub) return;
    const { instanceId, executionId } = await hub.client.createOrchestrationInstance('W');
    await until(async () =>
      (await hub.client.getOrchestrationState(instanceId))?.orchestrationStatus === 'Running');
    await hub.client.terminate(instanceId, 'sayōnara');
    const state = await hub.client.waitForOrchestration(instanceId, WAIT);
    assert.equal(state?.orchestrationStatus, 'Terminated');
    assert.equal(output(state), 'sayōnara');
    const one = await hub.client.getOrchestrationState(instanceId, { executionId });
    assert.equal(one?.orchestrationStatus, 'Terminated');
    assert.equal((await hub.client.getOrchestrationStates(instanceId)).length, 1);
    const history = await hub.client.getOrchestrationHistory(instanceId);
    assert.ok(history.some((e) => e.type === 'ExecutionTerminated'));
    assert.equal(await hub.client.getOrchestrationState('never-created'), null);
  });

  it('should suspend and resume, holding events in between', async (t) => {
    const hub = await memoryHub(t, { setup: (w) => w.addOrchestration('W', waiter) });
    if (!hub) return;
    const { instanceId } = await hub.client.createOrchestrationInstance('W');
    await hub.client.suspend(instanceId, 'pause');
    await hub.client.raiseEvent(instanceId, 'Go', 7);
    await until(async () =>
      (await hub.client.getOrchestrationState(instanceId))?.orchestrationStatus === 'Suspended');
    assert.equal(await hub.client.waitForOrchestration(instanceId, { timeoutMs: 100 }), null);
    await hub.client.resume(instanceId);
    assert.equal(output(await hub.client.waitForOrchestration(instanceId, WAIT)), 7);
  });

  it('should purge a finished instance and query instances', async (t) => {
    const double = (_c: unknown, x: number): number => x * 2;
    const hub = await memoryHub(t, { setup: (w) => w.addOrchestration('Inline', double) });
    if (!hub) return;
    const from = new Date(Date.now() - 1000);
    for (const id of ['q-1', 'q-2']) {
      await hub.client.createOrchestrationInstance('Inline', { instanceId: id, input: 2 });
      await hub.client.waitForOrchestration(id, WAIT);
    }
    const found = await hub.client.queryInstances({ instanceIdPrefix: 'q-' });
    assert.equal(found.orchestrationState.length, 2);
    const purged = await hub.client.purgeInstance('q-1');
    assert.equal(purged.deletedInstanceCount, 1);
    assert.equal(await hub.client.getOrchestrationState('q-1'), null);
    const all = await hub.client.purgeInstances({ createdTimeFrom: from,
      runtimeStatus: ['Completed'] });
    assert.equal(all.deletedInstanceCount, 1);
  });
});
