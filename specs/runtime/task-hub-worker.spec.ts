import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDurableTaskError, SessionAbortedError } from '../../src/core/errors.ts';
import type { ActivityContext } from '../../src/runtime/activity-context.ts';
import type { Orchestrator } from '../../src/runtime/orchestration-context.ts';
import { memoryHub, output } from './memory-hub.ts';

const WAIT = { timeoutMs: 30_000 };

const greet: Orchestrator<string, string> = function* (ctx, name) {
  return yield ctx.callActivity('SayHello', name);
};

describe('TaskHubWorker', () => {
  it('should run an orchestration with an activity end to end', async (t) => {
    const hub = await memoryHub(t, { setup: (w) => {
      w.addOrchestration('Greet', greet);
      w.addActivity('SayHello', (_ctx, name: string) => `Hello, ${name}!`);
    } });
    if (!hub) return;
    const { instanceId } = await hub.client.createOrchestrationInstance('Greet',
      { input: 'World' });
    const state = await hub.client.waitForOrchestration(instanceId, WAIT);
    assert.equal(state?.orchestrationStatus, 'Completed');
    assert.equal(output(state), 'Hello, World!');
    assert.equal(hub.worker.state, 'running');
  });

  it('should refuse a duplicate registration and a second start', async (t) => {
    const hub = await memoryHub(t, { setup: (w) => w.addOrchestration('Greet', greet) });
    if (!hub) return;
    assert.throws(() => hub.worker.addOrchestration('Greet', greet),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /already registered/.test(e.message));
    hub.worker.addOrchestration('Greet', greet, { version: '2' });
    assert.throws(() => hub.worker.addActivity('', () => 1),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT'));
    await assert.rejects(hub.worker.start(), (e) => isDurableTaskError(e, 'INVALID_STATE'));
  });

  it('should stop idempotently and refuse to start again after stopping', async (t) => {
    const hub = await memoryHub(t);
    if (!hub) return;
    await hub.worker.stop();
    await hub.worker.stop();
    assert.equal(hub.worker.state, 'stopped');
    await assert.rejects(hub.worker.start(), (e) => isDurableTaskError(e, 'INVALID_STATE'));
  });

  it('should give activities tags, the delivery count and an AbortSignal fired by a forced stop',
    async (t) => {
    let seen: ActivityContext | undefined;
    let aborted = false;
    let entered!: () => void;
    const running = new Promise<void>((r) => (entered = r));
    const hub = await memoryHub(t, { setup: (w) => {
      w.addOrchestration('Slow', function* (ctx) {
        return yield ctx.callActivity('Wait', null, { tags: { call: 'c' } });
      });
      w.addActivity('Wait', (ctx) => new Promise<string>((resolve) => {
        seen = ctx;
        entered();
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
          resolve('aborted');
        }, { once: true });
      }));
    } });
    if (!hub) return;
    await hub.client.createOrchestrationInstance('Slow', { tags: { orch: 'o' } });
    await running;
    assert.deepEqual(seen?.tags, { orch: 'o', call: 'c' });
    assert.equal(seen?.deliveryCount, 1);
    assert.equal(seen?.name, 'Wait');
    await hub.worker.stop({ forced: true });
    assert.equal(aborted, true);
  });

  it('[11] should let orchestration and activity middleware replace the executor', async (t) => {
    const hub = await memoryHub(t, { worker: {
      orchestrationMiddleware: [async (ctx, next) => {
        if (ctx.name !== 'Virtual') return next();
        const done = ctx.runtimeState.newEvents.find((e) => e.type === 'TaskCompleted');
        if (done?.type === 'TaskCompleted') {
          ctx.result = { actions: [{ kind: 'completeOrchestration', id: 1, status: 'Completed',
            result: done.result }], customStatus: '"custom"' };
        } else {
          ctx.result = { actions: [{ kind: 'scheduleTask', id: 0, name: 'FakeActivity',
            version: 'FakeActivityVersion', input: '"SomeInput"' }] };
        }
      }],
      activityMiddleware: [async (ctx) => {
        ctx.response = { type: 'TaskCompleted', eventId: -1, timestamp: new Date().toISOString(),
          taskScheduledId: ctx.taskId,
          result: JSON.stringify(`${ctx.name},${ctx.version},${JSON.parse(ctx.input ?? 'null')}`) };
      }],
    } });
    if (!hub) return;
    const { instanceId } = await hub.client.createOrchestrationInstance('Virtual');
    const state = await hub.client.waitForOrchestration(instanceId, WAIT);
    assert.equal(output(state), 'FakeActivity,FakeActivityVersion,SomeInput');
    assert.equal(state?.customStatus, '"custom"');
  });

  it('[77] should renew the orchestration lock while a long step runs', async (t) => {
    let renewals = 0;
    const hub = await memoryHub(t, {
      backend: { orchestrationLockMs: 600 },
      worker: { orchestrationMiddleware: [async (ctx, next) => {
        if (ctx.runtimeState.pastEvents.length === 0) {
          await new Promise((r) => setTimeout(r, 1500));
        }
        await next();
      }] },
      setup: (w) => w.addOrchestration('Long', function* (ctx) {
        yield ctx.createTimer(0);
        return 'ok';
      }),
    });
    if (!hub) return;
    const service = hub.backend.service;
    const renew = service.renewOrchestrationWorkItemLock.bind(service);
    service.renewOrchestrationWorkItemLock = async (item) => {
      renewals++;
      return renew(item);
    };
    const { instanceId } = await hub.client.createOrchestrationInstance('Long');
    const state = await hub.client.waitForOrchestration(instanceId, WAIT);
    assert.equal(output(state), 'ok');
    assert.ok(renewals >= 2, `renewed ${renewals} times`);
  });

  it('should fail an orchestration whose history no longer replays, without retrying it',
    async (t) => {
    const hub = await memoryHub(t, { worker: { extendedSessions: false }, setup: (w) => {
      w.addOrchestration('Drift', function* (ctx) {
        yield ctx.createTimer(0);
        yield ctx.callActivity(ctx.isReplaying ? 'B' : 'A');
        return 'unreachable';
      });
      w.addActivity('A', () => 1);
      w.addActivity('B', () => 2);
    } });
    if (!hub) return;
    const { instanceId } = await hub.client.createOrchestrationInstance('Drift');
    const state = await hub.client.waitForOrchestration(instanceId, WAIT);
    assert.equal(state?.orchestrationStatus, 'Failed');
    assert.equal(state?.failureDetails?.errorType, 'NonDeterminismError');
    assert.match(state?.output ?? '', /expected 'A', found 'B'/);
  });
});

describe('TaskHubWorker retries and versioning', () => {
  it('[80] should abandon and retry work whose code throws a session-aborted error', async (t) => {
    let orchestratorRuns = 0;
    let activityRuns = 0;
    const hub = await memoryHub(t, { backend: { abandonBackoffMs: 0 }, setup: (w) => {
      w.addOrchestration('Abort', function* (ctx) {
        if (!ctx.isReplaying && orchestratorRuns++ === 0) throw new SessionAbortedError();
        return yield ctx.callActivity('AbortOnce');
      });
      w.addActivity('AbortOnce', () => {
        if (activityRuns++ === 0) throw new SessionAbortedError();
        return 'True';
      });
    } });
    if (!hub) return;
    const { instanceId } = await hub.client.createOrchestrationInstance('Abort');
    const state = await hub.client.waitForOrchestration(instanceId, WAIT);
    assert.equal(output(state), 'True');
    assert.equal(activityRuns, 2);
  });

  it('[F16] should fail an orchestration nobody registers after the retry time, naming it',
    async (t) => {
    const hub = await memoryHub(t, { backend: { abandonBackoffMs: 20, maxAbandonBackoffMs: 50 },
      worker: { unknownTypeRetryMs: 300 } });
    if (!hub) return;
    const { instanceId } = await hub.client.createOrchestrationInstance('Nobody');
    const state = await hub.client.waitForOrchestration(instanceId, WAIT);
    assert.equal(state?.orchestrationStatus, 'Failed');
    assert.match(state?.output ?? '', /No orchestration named 'Nobody'/);
    assert.equal(state?.failureDetails?.isNonRetriable, true);
  });

  it('should fail an activity nobody registers after the retry time, as a task failure',
    async (t) => {
    const hub = await memoryHub(t, { backend: { abandonBackoffMs: 20, maxAbandonBackoffMs: 50 },
      worker: { unknownTypeRetryMs: 300 },
      setup: (w) => w.addOrchestration('Calls', function* (ctx) {
        try {
          yield ctx.callActivity('Missing');
        } catch (e) {
          return (e as Error).message;
        }
      }) });
    if (!hub) return;
    const { instanceId } = await hub.client.createOrchestrationInstance('Calls');
    const state = await hub.client.waitForOrchestration(instanceId, WAIT);
    assert.match(String(output(state)), /No activity named 'Missing'/);
  });

  it('[66] should fail or accept instances by worker version', async (t) => {
    const hub = await memoryHub(t, {
      worker: { versioning: { version: '1.0.0', match: 'currentOrOlder', onMismatch: 'fail' } },
      setup: (w) => w.addOrchestration('V', (_ctx: unknown, x: number) => x),
    });
    if (!hub) return;
    const older = await hub.client.createOrchestrationInstance('V', { version: '0.9.0', input: 1 });
    const newer = await hub.client.createOrchestrationInstance('V', { version: '2', input: 2 });
    assert.equal(output(await hub.client.waitForOrchestration(older.instanceId, WAIT)), 1);
    const failed = await hub.client.waitForOrchestration(newer.instanceId, WAIT);
    assert.equal(failed?.orchestrationStatus, 'Failed');
    assert.equal(failed?.failureDetails?.errorType, 'VersionMismatch');
  });

  it('[66] should keep rejecting an instance of another version without running it', async (t) => {
    let runs = 0;
    const hub = await memoryHub(t, {
      backend: { abandonBackoffMs: 20, maxAbandonBackoffMs: 50 },
      worker: { versioning: { version: '1', match: 'strict', onMismatch: 'reject' } },
      setup: (w) => w.addOrchestration('V', () => ++runs),
    });
    if (!hub) return;
    const { instanceId } = await hub.client.createOrchestrationInstance('V', { version: '2' });
    assert.equal(await hub.client.waitForOrchestration(instanceId, { timeoutMs: 500 }), null);
    assert.equal(runs, 0);
    assert.deepEqual(await hub.client.getOrchestrationHistory(instanceId), []);
  });
});
