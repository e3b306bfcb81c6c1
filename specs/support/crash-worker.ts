// A worker process for crash tests (field report F26): it serves one hub on the
// given NATS server, runs the orchestration 'Crashable' and the activity 'Long'
// (5 s, renewing its lock), and writes one line per step on stdout. The test
// that starts it kills it with SIGKILL mid-activity.
// Usage: node --import tsx specs/support/crash-worker.ts <url> <hub> <partitions> <leaseMs>
//        <activityLockMs>
import { setTimeout as delay } from 'node:timers/promises';
import { createNatsBackend } from '../../src/nats/index.ts';
import { TaskHubWorker } from '../../src/runtime/index.ts';
import { crashableOrchestration, LONG_ACTIVITY_MS } from './crash-workload.ts';

const [url, hub, partitions, leaseMs, activityLockMs] = process.argv.slice(2);
if (!url || !hub || !partitions || !leaseMs || !activityLockMs) {
  process.stderr.write('usage: crash-worker.ts <url> <hub> <partitions> <leaseMs> <lockMs>\n');
  process.exit(2);
}
const backend = await createNatsBackend({
  servers: url, hub, partitions: Number(partitions), leaseMs: Number(leaseMs),
  activityLockMs: Number(activityLockMs),
});
const worker = new TaskHubWorker({ backend });
worker.addOrchestration('Crashable', crashableOrchestration);
worker.addActivity('Long', async (ctx) => {
  process.stdout.write(`activity-started ${ctx.deliveryCount}\n`);
  await delay(LONG_ACTIVITY_MS);
  process.stdout.write('activity-finished\n');
  return 'from the killed worker';
});
await worker.start();
process.stdout.write('ready\n');
// Runs until killed; a safety net ends it after a minute if nobody does.
await delay(60_000);
await worker.stop({ forced: true });
await backend.close();
