import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Backend } from '../../src/core/backend.ts';
import type { ActivityWorkItem, OrchestrationWorkItem } from '../../src/core/work-item.ts';
import { createMemoryBackend } from '../../src/memory/index.ts';
import { createNatsBackend } from '../../src/nats/index.ts';
import { TaskHubClient } from '../../src/runtime/task-hub-client.ts';
import { TaskHubWorker } from '../../src/runtime/task-hub-worker.ts';
import { DelegatingService } from '../properties/support/delegating-service.ts';
import { uniqueHubName } from '../support/nats-server.ts';
import { sharedNatsUrl, stopSharedNatsServer } from '../support/shared-nats.ts';

/** Counts lock calls, to show that a worker's loops wait between failed calls. */
class CountingService extends DelegatingService {
  locks = 0;

  override lockNextOrchestrationWorkItem(ms: number, signal?: AbortSignal):
    Promise<OrchestrationWorkItem | null> {
    this.locks++;
    return this.inner.lockNextOrchestrationWorkItem(ms, signal);
  }

  override lockNextActivityWorkItem(ms: number, signal?: AbortSignal):
    Promise<ActivityWorkItem | null> {
    this.locks++;
    return this.inner.lockNextActivityWorkItem(ms, signal);
  }
}

type Kind = 'memory' | 'nats';

async function open(kind: Kind): Promise<Backend> {
  // No back-off of its own after a failed lock call: the worker's floor must hold alone.
  if (kind === 'memory') {
    return createMemoryBackend({ hub: uniqueHubName('ws'), fetchErrorDelayMs: 0 });
  }
  return createNatsBackend({ servers: await sharedNatsUrl(), hub: uniqueHubName('ws'),
    partitions: 2, leaseMs: 1_500 });
}

let activityStarted: Promise<void> = Promise.resolve();
let startedActivity: () => void = () => undefined;

/** A worker whose activity doubles its input; input -1 makes it run for a while (2 s). */
function worker(service: CountingService): TaskHubWorker {
  const w = new TaskHubWorker({ service, stopTimeoutMs: 10_000 });
  w.addOrchestration('Twice', function* (ctx, n: number) {
    return yield ctx.callActivity('Double', n);
  });
  w.addActivity('Double', async (_ctx, n: number) => {
    if (n === -1) {
      startedActivity();
      await pause(2_000);
    }
    return n * 2;
  });
  return w;
}

/** Lets real time pass; a process whose loop spins never gets here. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Two loops (orchestrations, activities) pausing at least 100 ms and doubling make a handful
 * of calls a second; a loop that spins makes millions (or never lets this test run on).
 */
const MAX_LOCK_CALLS_PER_SECOND = 40;

for (const kind of ['memory', 'nats'] as const) {
  describe(`TaskHubWorker shutdown (${kind})`, () => {
    after(() => stopSharedNatsServer());

    it('should stop promptly and more than once after the backend was closed first',
      { timeout: 60_000 }, async () => {
      const backend = await open(kind);
      const service = new CountingService(backend.service);
      const w = worker(service);
      await w.start();
      await backend.close();
      const before = service.locks;
      await pause(1_000);
      assert.ok(service.locks - before <= MAX_LOCK_CALLS_PER_SECOND,
        `${service.locks - before} lock calls in a second on a closed backend`);
      await w.stop();
      await w.stop();
      assert.equal(w.state, 'stopped');
    });

    it('should keep the other worker of a shared backend from spinning when one stops',
      { timeout: 60_000 }, async () => {
      const backend = await open(kind);
      activityStarted = new Promise((resolve) => (startedActivity = resolve));
      try {
        const one = new CountingService(backend.service);
        const two = new CountingService(backend.service);
        const w1 = worker(one);
        const w2 = worker(two);
        await w1.start();
        await w2.start();
        const client = new TaskHubClient({ backend });
        const { instanceId } = await client.createOrchestrationInstance('Twice', { input: 21 });
        const done = await client.waitForOrchestration(instanceId, { timeoutMs: 30_000 });
        assert.equal(done?.output, '42');
        // Stopping w2 stops the hub they share, while an activity still runs.
        await client.createOrchestrationInstance('Twice', { input: -1 });
        await activityStarted;
        await w2.stop();
        const before = one.locks;
        await pause(1_000);
        assert.ok(one.locks - before <= MAX_LOCK_CALLS_PER_SECOND,
          `${one.locks - before} lock calls in a second on a stopped hub`);
        await w1.stop();
        assert.equal(w1.state, 'stopped');
      } finally {
        await backend.close();
      }
    });
  });
}
