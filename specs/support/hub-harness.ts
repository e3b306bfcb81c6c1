import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Backend } from '../../src/core/backend.ts';
import type { OrchestrationState } from '../../src/core/orchestration-state.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { uniqueHubName, type BackendFixture, type FixtureOptions } from './backends.ts';
import { TaskHubClient, TaskHubWorker, type Activity, type Orchestrator } from './runtime-api.ts';

/** An orchestration registration: the function, with a version, or several versions. */
export type OrchestrationEntry =
  | Orchestrator
  | { fn: Orchestrator; version?: string }
  | readonly { fn: Orchestrator; version: string }[];

export interface WorkerSpec {
  readonly orchestrations?: Readonly<Record<string, OrchestrationEntry>>;
  readonly activities?: Readonly<Record<string, Activity>>;
  /** Extra TaskHubWorker options (concurrency, extendedSessions, ...). */
  readonly workerOptions?: Readonly<Record<string, unknown>>;
}

export interface HubSpec extends WorkerSpec {
  readonly backend?: FixtureOptions;
  /** Start the first worker right away (default true). */
  readonly startWorker?: boolean;
}

export interface Hub {
  readonly backend: Backend;
  readonly client: TaskHubClient;
  /** The first worker (started unless `startWorker: false`). */
  readonly worker: TaskHubWorker;
  /** Starts the first worker when the spec asked not to. */
  start(): Promise<void>;
  /** Another worker on a backend of the same hub (its own connection where the backend has one). */
  addWorker(
    spec: WorkerSpec,
    options?: { sameBackend?: boolean; backend?: FixtureOptions },
  ): Promise<TaskHubWorker>;
  /** Another client on the same hub (its own backend connection where the backend has one). */
  addClient(): Promise<TaskHubClient>;
  /** Creates an instance and waits for a final state, asserting one came. */
  run(
    name: string,
    options?: Parameters<TaskHubClient['createOrchestrationInstance']>[1],
    timeoutMs?: number,
  ): Promise<OrchestrationState>;
  /** Waits for a final state, asserting one came in time. */
  wait(instanceId: string, timeoutMs?: number): Promise<OrchestrationState>;
}

/** Generous safety net for a wait; never a speed assertion. */
export const SAFETY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

function register(worker: TaskHubWorker, spec: WorkerSpec): void {
  for (const [name, entry] of Object.entries(spec.orchestrations ?? {})) {
    if (typeof entry === 'function') worker.addOrchestration(name, entry);
    else if (Array.isArray(entry)) {
      for (const v of entry) worker.addOrchestration(name, v.fn, { version: v.version });
    } else {
      const one = entry as { fn: Orchestrator; version?: string };
      worker.addOrchestration(
        name,
        one.fn,
        one.version === undefined ? undefined : { version: one.version },
      );
    }
  }
  for (const [name, fn] of Object.entries(spec.activities ?? {})) worker.addActivity(name, fn);
}

async function stopWorker(worker: TaskHubWorker): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const graceful = worker.stop().then(
    () => true,
    () => true,
  );
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), STOP_GRACE_MS);
  });
  const done = await Promise.race([graceful, late]);
  clearTimeout(timer);
  if (!done) await worker.stop({ forced: true }).catch(() => undefined);
}

/**
 * Runs workers and a client on one hub of `fixture` for the length of test
 * `t`, and tears everything down (workers first, then backends) when it ends.
 * Returns null after `t.skip()` when the backend or the runtime is not built.
 */
export async function startHub(
  t: TestContext,
  fixture: BackendFixture,
  spec: HubSpec = {},
): Promise<Hub | null> {
  const missing = await fixture.unavailable();
  if (missing !== undefined) {
    t.skip(missing);
    return null;
  }
  const logger = spec.backend?.logger ?? silentLogger();
  const hub = spec.backend?.hub ?? uniqueHubName(fixture.kind === 'memory' ? 'm' : 'n');
  const backendOpts: FixtureOptions = { ...spec.backend, hub, logger };
  const workers: TaskHubWorker[] = [];
  const backends: Backend[] = [];
  t.after(async () => {
    for (const w of workers.reverse()) await stopWorker(w);
    for (const b of backends.reverse()) await b.close().catch(() => undefined);
  });

  const backend = await fixture.create(backendOpts);
  backends.push(backend);

  const newWorker = (b: Backend, s: WorkerSpec): TaskHubWorker => {
    const w = new TaskHubWorker({ backend: b, logger, ...s.workerOptions });
    register(w, s);
    workers.push(w);
    return w;
  };
  const worker = newWorker(backend, spec);
  // Without a running worker the hub must still exist for the client to create instances.
  if (spec.startWorker !== false) await worker.start();
  else await backend.service.createIfNotExists();
  const client = new TaskHubClient({ backend, logger });

  const wait = async (instanceId: string, timeoutMs = SAFETY_TIMEOUT_MS) => {
    const state = await client.waitForOrchestration(instanceId, { timeoutMs });
    assert.ok(state, `instance '${instanceId}' reached no final state within ${timeoutMs} ms`);
    return state;
  };

  return {
    backend,
    client,
    worker,
    start: () => worker.start(),
    async addWorker(s, options) {
      let b = backend;
      if (options?.sameBackend !== true) {
        // A peer backend gets the hub's options, minus fault hooks unless given again.
        const { faults: _faults, ...hubOpts } = backendOpts;
        b = await fixture.createPeer(backend, { ...hubOpts, ...options?.backend, hub, logger });
        backends.push(b);
      }
      const w = newWorker(b, s);
      await w.start();
      return w;
    },
    async addClient() {
      const b = await fixture.createPeer(backend, backendOpts);
      backends.push(b);
      await b.service.createIfNotExists();
      return new TaskHubClient({ backend: b, logger });
    },
    async run(name, options, timeoutMs) {
      const { instanceId } = await client.createOrchestrationInstance(name, options);
      return wait(instanceId, timeoutMs);
    },
    wait,
  };
}
