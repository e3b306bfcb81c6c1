import type { OrchestrationState } from '../src/core/orchestration-state.ts';
import type {
  Activity, Orchestrator, TaskHubClient, TaskHubWorker,
} from '../src/runtime/index.ts';

/** One benchmark workload: an orchestration, its activities, and the output it must produce. */
export interface Workload {
  readonly name: 'hello' | 'chain' | 'fanout';
  readonly orchestration: string;
  /** Activities one instance runs. */
  readonly activities: number;
  /** The serialized output every instance must end with. */
  readonly expectedOutput: string;
}

const sayHello: Activity<string, string> = (_ctx, name) => `Hello ${name}!`;
const echoNumber: Activity<number, number> = (_ctx, n) => n;

const helloWorld: Orchestrator<void, string> = function* (ctx) {
  const r: string = yield ctx.callActivity('BenchSayHello', 'World');
  return r;
};

const helloChain: Orchestrator<void, string> = function* (ctx) {
  const tokyo: string = yield ctx.callActivity('BenchSayHello', 'Tokyo');
  const seattle: string = yield ctx.callActivity('BenchSayHello', 'Seattle');
  const london: string = yield ctx.callActivity('BenchSayHello', 'London');
  return [tokyo, seattle, london].join(' ');
};

const FANOUT_WIDTH = 10;

const fanOutSum: Orchestrator<void, number> = function* (ctx) {
  const tasks = [];
  for (let i = 1; i <= FANOUT_WIDTH; i++) tasks.push(ctx.callActivity<number>('BenchEcho', i));
  const results: number[] = yield ctx.whenAll(tasks);
  return results.reduce((a, b) => a + b, 0);
};

/** Sequential steps for the scaling run: the input says how many; each step is one activity. */
const sequentialSteps: Orchestrator<number, number> = function* (ctx, steps) {
  let last = 0;
  for (let i = 0; i < steps; i++) last = yield ctx.callActivity<number>('BenchStep', i);
  return last;
};

/** Waits for one external event and returns its data (memory run). */
const waitForGo: Orchestrator<void, unknown> = function* (ctx) {
  const data: unknown = yield ctx.waitForExternalEvent('Go');
  return data;
};

export const WORKLOADS: Readonly<Record<Workload['name'], Workload>> = {
  hello: { name: 'hello', orchestration: 'BenchHello', activities: 1,
    expectedOutput: JSON.stringify('Hello World!') },
  chain: { name: 'chain', orchestration: 'BenchChain', activities: 3,
    expectedOutput: JSON.stringify('Hello Tokyo! Hello Seattle! Hello London!') },
  fanout: { name: 'fanout', orchestration: 'BenchFanOut', activities: FANOUT_WIDTH,
    expectedOutput: JSON.stringify(55) },
};

/** Called by the sequential-steps activity with the step index (the scaling run's clock). */
export type StepObserver = (step: number) => void;

/** Registers every benchmark orchestration and activity on a worker. */
export function registerWorkloads(worker: TaskHubWorker, onStep: StepObserver = () => undefined):
  void {
  worker.addOrchestration('BenchHello', helloWorld);
  worker.addOrchestration('BenchChain', helloChain);
  worker.addOrchestration('BenchFanOut', fanOutSum);
  worker.addOrchestration('BenchSequential', sequentialSteps);
  worker.addOrchestration('BenchWaitForGo', waitForGo);
  worker.addActivity('BenchSayHello', sayHello);
  worker.addActivity('BenchEcho', echoNumber);
  worker.addActivity('BenchStep', (_ctx, i: number) => {
    onStep(i);
    return i;
  });
}

/** Why a finished instance is wrong, or null when it completed with the expected output. */
export function checkOutput(state: OrchestrationState | null, expected: string): string | null {
  if (!state) return 'no final state within the wait timeout';
  if (state.orchestrationStatus !== 'Completed') {
    return `status ${state.orchestrationStatus}: ${state.output ?? ''}`.slice(0, 300);
  }
  if (state.output !== expected) return `output ${state.output} (expected ${expected})`;
  return null;
}

export interface InstanceResult {
  readonly latencyMs: number;
  readonly error: string | null;
}

/** Per-instance wait safety net: never a speed assertion, only a bound on a stuck run. */
export const WAIT_TIMEOUT_MS = 60_000;

/** Starts one instance, waits for it and checks its output; latency is start to final state. */
export async function runOne(client: TaskHubClient, w: Workload, instanceId: string):
  Promise<InstanceResult> {
  const t0 = performance.now();
  try {
    await client.createOrchestrationInstance(w.orchestration, { instanceId });
    const state = await client.waitForOrchestration(instanceId, { timeoutMs: WAIT_TIMEOUT_MS });
    const latencyMs = performance.now() - t0;
    return { latencyMs, error: checkOutput(state, w.expectedOutput) };
  } catch (err) {
    return { latencyMs: performance.now() - t0, error: (err as Error).message.slice(0, 300) };
  }
}
