import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createMemoryBackend, type MemoryBackend } from '../../src/memory/index.ts';
import type { NatsBackend } from '../../src/nats/index.ts';
import { backendFixtures, NATS_TEST_LEASE_MS, NATS_TEST_PARTITIONS } from '../support/backends.ts';
import { countType, delay, eventually, gate, outputOf } from '../support/conformance-helpers.ts';
import { crashableOrchestration, LONG_ACTIVITY_MS } from '../support/crash-workload.ts';
import { startHub, type Hub } from '../support/hub-harness.ts';
import { TaskHubWorker, type Activity } from '../support/runtime-api.ts';
import { sharedNatsUrl } from '../support/shared-nats.ts';

// Field report F26: an activity runs 5 s with a 1 s lock, renewing; its worker
// dies mid-activity. The activity comes back after the lock lapses, runs to
// completion on another worker with delivery count 2, and the orchestration
// completes once. On NATS the worker is a child process killed with SIGKILL;
// the memory backend lives in one process, so its worker "dies" by hanging:
// its renewals fail from then on and its activity never returns in time.

const LOCK_MS = 1_000;
const WORKER_SCRIPT = fileURLToPath(new URL('../support/crash-worker.ts', import.meta.url));

/** The doomed worker: started, running the first delivery of the activity; `kill()` ends it. */
interface DoomedWorker {
  kill(): Promise<void>;
}

/** Starts a worker process on the hub and waits until it runs the activity (delivery 1). */
async function natsWorkerProcess(t: Parameters<typeof startHub>[0], hub: Hub,
  start: () => Promise<void>): Promise<DoomedWorker> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT,
    await sharedNatsUrl(), (hub.backend as NatsBackend).hub, String(NATS_TEST_PARTITIONS),
    String(NATS_TEST_LEASE_MS), String(LOCK_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = once(child, 'exit');
  // Whatever happens in the test, the process it started ends with it.
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  try {
    await eventually('the worker process is ready', () => output.includes('ready\n'), 60_000);
    await start();
    await eventually('the worker process runs the activity',
      () => output.includes('activity-started 1\n'), 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    async kill() {
      assert.ok(!output.includes('activity-finished'), 'the activity finished before the kill');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A second worker on the hub whose death is a hang: no more renewals, no result. */
async function hangingMemoryWorker(t: Parameters<typeof startHub>[0], hub: Hub,
  start: () => Promise<void>): Promise<DoomedWorker> {
  const backend = createMemoryBackend({ shareStoreWith: hub.backend as MemoryBackend });
  const release = gate();
  let started = false;
  const worker = new TaskHubWorker({ backend });
  worker.addOrchestration('Crashable', crashableOrchestration);
  worker.addActivity('Long', async (ctx) => {
    started = ctx.deliveryCount === 1;
    await release.wait(120_000);
    return 'from the dead worker';
  });
  t.after(async () => {
    release.open();
    await worker.stop({ forced: true }).catch(() => undefined);
    await backend.close();
  });
  await worker.start();
  await start();
  await eventually('the doomed worker runs the activity', () => started, 30_000);
  return {
    async kill() {
      backend.faults.failActivityRenewals = 1_000_000;
    },
  };
}

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('[F26] a worker dies during a renewed activity; it runs once more elsewhere', async (t) => {
      const deliveries: number[] = [];
      const long: Activity = async (ctx) => {
        deliveries.push(ctx.deliveryCount);
        await delay(LONG_ACTIVITY_MS);
        return `finished on delivery ${ctx.deliveryCount}`;
      };
      const hub = await startHub(t, fixture, {
        startWorker: false,
        backend: { activityLockMs: LOCK_MS },
        orchestrations: { Crashable: crashableOrchestration },
        activities: { Long: long },
      });
      if (!hub) return;
      const create = async (): Promise<void> => {
        await hub.client.createOrchestrationInstance('Crashable', { instanceId: 'f26' });
      };
      const doomed = fixture.kind === 'nats'
        ? await natsWorkerProcess(t, hub, create)
        : await hangingMemoryWorker(t, hub, create);

      // A second worker is ready; while the first one renews, the activity stays with it.
      await hub.start();
      await delay(3 * LOCK_MS);
      assert.deepEqual(deliveries, [], 'the activity moved while its lock was being renewed');
      await doomed.kill();

      const state = await hub.wait('f26', 60_000);
      assert.equal(outputOf(state), 'finished on delivery 2');
      assert.deepEqual(deliveries, [2], 'the activity ran more than once after the crash');
      const history = await hub.client.getOrchestrationHistory('f26');
      assert.equal(countType(history, 'TaskScheduled'), 1);
      assert.equal(countType(history, 'TaskCompleted'), 1);
      assert.equal(countType(history, 'ExecutionCompleted'), 1);
    });
  });
}
