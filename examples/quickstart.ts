// The README's first program, runnable in this repository:
//   node --import tsx examples/quickstart.ts
// It starts nats-server on a free loopback port (store in a temporary folder),
// runs one orchestration through a worker and prints its result.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer } from '../src/embedded/nats-server.ts';
import {
  createNatsBackend,
  TaskHubClient,
  TaskHubWorker,
  type Activity,
  type Orchestrator,
} from '../src/index.ts';

// An activity does the real work; it may run more than once, so make it idempotent.
const sayHello: Activity<string, string> = async (_ctx, city) => `Hello ${city}!`;

// An orchestrator is a deterministic generator: yield tasks, receive their results.
const helloCities: Orchestrator<void, string> = function* (ctx) {
  const tokyo: string = yield ctx.callActivity('SayHello', 'Tokyo');
  const rest: string[] = yield ctx.whenAll([
    ctx.callActivity<string>('SayHello', 'Seattle'),
    ctx.callActivity<string>('SayHello', 'London'),
  ]);
  yield ctx.createTimer(1_000); // a durable timer
  return [tokyo, ...rest].join(' ');
};

const storeDir = await mkdtemp(join(tmpdir(), 'durabletask-quickstart-'));
const server = await startNatsServer({ storeDir });
try {
  const backend = await createNatsBackend({ servers: server.url, hub: 'greetings' });
  const worker = new TaskHubWorker({ backend });
  worker.addOrchestration('HelloCities', helloCities);
  worker.addActivity('SayHello', sayHello);
  await worker.start(); // creates the hub's streams if needed

  const client = new TaskHubClient({ backend });
  const { instanceId } = await client.createOrchestrationInstance('HelloCities');
  const state = await client.waitForOrchestration(instanceId, { timeoutMs: 30_000 });
  process.stdout.write(`${state?.orchestrationStatus} ${state?.output}\n`);

  await worker.stop();
  await backend.close();
  process.exitCode = state?.orchestrationStatus === 'Completed' ? 0 : 1;
} finally {
  await server.stop();
  await rm(storeDir, { recursive: true, force: true });
}
