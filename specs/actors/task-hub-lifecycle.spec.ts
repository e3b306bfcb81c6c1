import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HubLifecycle, type HubSteps } from '../../actors/task-hub-lifecycle.ts';
import type { HubStateName } from '../../actors/task-hub.machine.ts';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { deferred } from '../../src/util/deferred.ts';

function lifecycle(steps: HubSteps = {}, seen?: HubStateName[]): HubLifecycle {
  return new HubLifecycle({
    hub: 'h1',
    steps,
    ...(seen ? { onStateChange: (s: HubStateName) => seen.push(s) } : {}),
  });
}

async function rejectsWith(p: Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isDurableTaskError(err), `expected a DurableTaskError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (text) assert.match(err.message, text);
    return true;
  });
}

describe('HubLifecycle', () => {
  it('should run the steps in order and report each state', async () => {
    const calls: string[] = [];
    const seen: HubStateName[] = [];
    const hub = lifecycle({
      provision: async (i) => { calls.push(`provision:${i.mode}:${i.recreateInstanceStore}`); },
      startWork: async () => { calls.push('start'); },
      stopWork: async (i) => { calls.push(`stop:${i.forced}`); },
      deprovision: async (i) => { calls.push(`delete:${i.deleteInstanceStore}`); },
    }, seen);
    await hub.create({ recreateInstanceStore: false });
    await hub.start();
    assert.equal(hub.state, 'running');
    await hub.stop({ forced: true });
    await hub.delete({ deleteInstanceStore: false });
    assert.equal(hub.state, 'absent');
    assert.deepEqual(calls, ['provision:create:false', 'start', 'stop:true', 'delete:false']);
    assert.deepEqual(seen, ['creating', 'created', 'starting', 'running', 'stopping', 'stopped',
      'deleting', 'absent']);
    hub.close();
  });

  it('should fail start before create at once with INVALID_HUB_STATE', async () => {
    const hub = lifecycle();
    await rejectsWith(hub.start(), 'INVALID_HUB_STATE', /absent.*createIfNotExists/);
    assert.equal(hub.state, 'absent');
    hub.close();
  });

  it('should reject create and delete while running', async () => {
    const hub = lifecycle();
    await hub.createIfNotExists();
    await hub.start();
    await rejectsWith(hub.create(), 'INVALID_HUB_STATE', /running.*stop it first/);
    await rejectsWith(hub.delete(), 'INVALID_HUB_STATE', /running/);
    assert.equal(hub.state, 'running');
    hub.close();
  });

  it('should treat repeated start, stop and createIfNotExists as no-ops', async () => {
    let starts = 0;
    let provisions = 0;
    const hub = lifecycle({
      provision: async () => { provisions++; },
      startWork: async () => { starts++; },
    });
    await hub.createIfNotExists();
    await hub.createIfNotExists();
    await hub.start();
    await hub.start();
    await hub.createIfNotExists();
    assert.equal(starts, 1);
    assert.equal(provisions, 1);
    await hub.stop();
    await hub.stop();
    assert.equal(hub.state, 'stopped');
    hub.close();
  });

  it('should let concurrent calls of the same kind join the work in progress', async () => {
    const gate = deferred<void>();
    let starts = 0;
    const hub = lifecycle({ startWork: async () => { starts++; await gate.promise; } });
    await hub.createIfNotExists();
    const a = hub.start();
    const b = hub.start();
    assert.equal(hub.state, 'starting');
    gate.resolve();
    await Promise.all([a, b]);
    assert.equal(starts, 1);
    assert.equal(hub.state, 'running');
    hub.close();
  });

  it('should name the state in assertRunning and assertProvisioned', async () => {
    const hub = lifecycle();
    assert.throws(() => hub.assertRunning('lock a work item'), (err: unknown) =>
      isDurableTaskError(err, 'HUB_NOT_RUNNING') && /lock a work item.*absent/.test(err.message));
    assert.throws(() => hub.assertProvisioned('create an instance'), (err: unknown) =>
      isDurableTaskError(err, 'INVALID_HUB_STATE') && /absent/.test(err.message));
    await hub.createIfNotExists();
    hub.assertProvisioned('create an instance');
    assert.throws(() => hub.assertRunning('lock'), /created, not running \(call start\(\) first\)/);
    await hub.start();
    hub.assertRunning('lock');
    hub.close();
  });

  it('should move to failed and rethrow the step error, then allow a new create', async () => {
    let fail = true;
    const hub = lifecycle({
      provision: async () => { if (fail) throw new Error('disk full'); },
    });
    await rejectsWith(hub.createIfNotExists(), 'BACKEND_ERROR', /disk full/);
    assert.equal(hub.state, 'failed');
    assert.match(String((hub.lastError as Error).message), /disk full/);
    await rejectsWith(hub.start(), 'INVALID_HUB_STATE', /failed/);
    fail = false;
    await hub.createIfNotExists();
    assert.equal(hub.state, 'created');
    hub.close();
  });

  it('should keep the code of a DurableTaskError thrown by a step', async () => {
    const { DurableTaskError } = await import('../../src/core/errors.ts');
    const hub = lifecycle({
      provision: async () => { throw new DurableTaskError('HUB_CONFIG_MISMATCH', 'partitions'); },
    });
    await rejectsWith(hub.createIfNotExists(), 'HUB_CONFIG_MISMATCH');
    hub.close();
  });

  it('should abort a graceful drain when a forced stop comes in', async () => {
    const forcedSeen: boolean[] = [];
    let gracefulAborted = false;
    const hub = lifecycle({
      stopWork: (input, signal) => {
        forcedSeen.push(input.forced);
        if (input.forced) return Promise.resolve();
        return new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => { gracefulAborted = true; resolve(); },
            { once: true });
        });
      },
    });
    await hub.createIfNotExists();
    await hub.start();
    const graceful = hub.stop();
    assert.equal(hub.state, 'stopping');
    await hub.stop({ forced: true });
    await graceful;
    assert.equal(hub.state, 'stopped');
    assert.deepEqual(forcedSeen, [false, true]);
    assert.equal(gracefulAborted, true);
    hub.close();
  });

  it('should reject a start interrupted by a stop', async () => {
    const hub = lifecycle({
      startWork: (_i, signal) => new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => resolve(), { once: true });
      }),
    });
    await hub.createIfNotExists();
    const starting = hub.start();
    await hub.stop();
    await rejectsWith(starting, 'INVALID_HUB_STATE', /stopped meanwhile/);
    hub.close();
  });

  it('should fail every call after close with INVALID_STATE', async () => {
    const hub = lifecycle();
    hub.close();
    hub.close();
    await rejectsWith(hub.createIfNotExists(), 'INVALID_STATE', /closed/);
    assert.throws(() => hub.assertRunning('lock'), /closed/);
  });
});
