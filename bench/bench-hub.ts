import { connect, type NatsConnection } from '@nats-io/transport-node';
import { silentLogger } from '../src/logging/logger.ts';
import { createNatsBackend, type NatsBackend } from '../src/nats/index.ts';
import { TaskHubClient, TaskHubWorker } from '../src/runtime/index.ts';
import { OpCounter } from './op-counter.ts';
import type { BenchServer } from './server.ts';
import { registerWorkloads, type StepObserver } from './workloads.ts';

/** A task hub with its worker and client in this process, on one connection. */
export interface BenchHub {
  readonly hub: string;
  readonly nc: NatsConnection;
  readonly backend: NatsBackend;
  readonly worker: TaskHubWorker;
  readonly client: TaskHubClient;
  readonly ops: OpCounter;
  /** Partitions of the hub (the library default unless an experiment overrides it). */
  readonly partitions: number;
  /** Stops the worker, deletes the hub's streams, closes the connection. */
  close(): Promise<void>;
}

export interface BenchHubOptions {
  readonly countOps: boolean;
  /** Experiment overrides of the backend and worker options (empty: library defaults). */
  readonly backendOptions?: Readonly<Record<string, unknown>>;
  readonly workerOptions?: Readonly<Record<string, unknown>>;
  readonly onStep?: StepObserver;
  /** Start the worker (default true). */
  readonly startWorker?: boolean;
}

let hubCounter = 0;
/** The backend's default partition count. */
export const DEFAULT_PARTITIONS = 16;

/** A fresh hub name per section, so sections never see each other's state. */
export function newHubName(section: string): string {
  hubCounter++;
  return `bench_${section}_${process.pid.toString(36)}${hubCounter}`.slice(0, 32);
}

/**
 * Connects (the backend gets the connection, so operations can be counted on
 * it), creates a fresh hub, starts a worker with the benchmark workloads and
 * returns it with a client. Library defaults everywhere: the benchmark measures
 * what a user gets.
 */
export async function openHub(server: BenchServer, section: string, options: BenchHubOptions):
  Promise<BenchHub> {
  const hub = newHubName(section);
  // Same connection options as the backend uses when it connects itself.
  const nc = await connect({ servers: server.url, name: `bench-${hub}`, noAsyncTraces: true });
  const ops = new OpCounter();
  // The counter wraps the connection only while operations are counted (section-workload).
  const logger = silentLogger();
  const backend = await createNatsBackend({ ...options.backendOptions, connection: nc, hub,
    logger });
  await backend.service.create({ recreateInstanceStore: true });
  const worker = new TaskHubWorker({ ...options.workerOptions, backend, logger });
  registerWorkloads(worker, options.onStep);
  if (options.startWorker !== false) await worker.start();
  const client = new TaskHubClient({ backend, logger });
  let closing: Promise<void> | undefined;
  return {
    hub, nc, backend, worker, client, ops,
    partitions: typeof options.backendOptions?.['partitions'] === 'number'
      ? options.backendOptions['partitions'] : DEFAULT_PARTITIONS,
    close: () => (closing ??= (async () => {
      await worker.stop({ forced: true }).catch(() => undefined);
      await backend.service.stop({ forced: true }).catch(() => undefined);
      await backend.service.delete({ deleteInstanceStore: true }).catch(() => undefined);
      await backend.close().catch(() => undefined);
      await nc.drain().catch(() => nc.close());
    })()),
  };
}

/**
 * Waits until the worker owns every partition (a fresh hub has no previous
 * owner, so this is quick); bounded by `timeoutMs`.
 */
export async function waitForPartitions(h: BenchHub, timeoutMs = 20_000): Promise<void> {
  const partitions = h.partitions;
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1_000 && Date.now() < deadline; i++) {
    if (h.backend.ownedPartitions().length >= partitions) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`The worker owns ${h.backend.ownedPartitions().length} of ${partitions} ` +
    `partitions after ${timeoutMs} ms.`);
}
