import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { createMemoryBackend } from '../../src/memory/index.ts';
import { settle } from '../support/sim-clock.ts';
import { checkpoint, completed, create, lockNow, rejectsCode, SECOND, started } from './helpers.ts';

describe('memory backend: several backends on one hub', () => {
  it('should share instances and queues but keep lifecycles and locks apart', async (t) => {
    const { b: a } = await started(t);
    const b = createMemoryBackend({ shareStoreWith: a });
    t.after(() => b.close());
    await b.service.createIfNotExists();
    await b.service.start();
    const waiting = b.service.lockNextOrchestrationWorkItem(60 * SECOND);
    await settle();
    await create(a, 'x');
    const wi = await waiting;
    assert.equal(wi?.instanceId, 'x');
    assert.ok(wi);
    await rejectsCode(checkpoint(a, wi), 'INVALID_ARGUMENT', /not issued by this backend/);
    await a.service.stop();
    assert.equal(a.hubState, 'stopped');
    assert.equal(b.hubState, 'running');
    await checkpoint(b, wi, completed());
    await b.service.releaseOrchestrationWorkItem(wi);
    const [state] = await a.client.getOrchestrationState('x');
    assert.equal(state?.orchestrationStatus, 'Completed');
  });

  it('should hand the locks of a stopped backend to the others', async (t) => {
    const { b: a } = await started(t);
    const b = createMemoryBackend({ shareStoreWith: a });
    t.after(() => b.close());
    await b.service.createIfNotExists();
    await b.service.start();
    await create(a, 'x');
    const held = await lockNow(a);
    assert.equal(await b.service.lockNextOrchestrationWorkItem(0), null);
    const waiting = b.service.lockNextOrchestrationWorkItem(60 * SECOND);
    await settle();
    await a.service.stop({ forced: true });
    const taken = await waiting;
    assert.deepEqual(taken?.newMessages, held.newMessages);
    await rejectsCode(checkpoint(a, held), 'LOCK_LOST');
  });

  it('should refuse hub-level options that differ and foreign objects', async (t) => {
    const { b: a } = await started(t, { orchestrationLockMs: 5 * SECOND });
    assert.throws(() => createMemoryBackend({ shareStoreWith: a, orchestrationLockMs: 6_000 }),
      (e: unknown) => isDurableTaskError(e, 'HUB_CONFIG_MISMATCH') &&
        /orchestrationLockMs/.test(e.message));
    assert.throws(() => createMemoryBackend({ shareStoreWith: a, hub: 'other' }),
      (e: unknown) => isDurableTaskError(e, 'HUB_CONFIG_MISMATCH'));
    const same = createMemoryBackend({ shareStoreWith: a, orchestrationLockMs: 5 * SECOND,
      drainTimeoutMs: 1 });
    t.after(() => same.close());
    assert.throws(() => createMemoryBackend({ shareStoreWith: {} as never }),
      (e: unknown) => isDurableTaskError(e, 'INVALID_ARGUMENT'));
  });
});
