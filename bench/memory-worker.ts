/**
 * Child process of the memory run: only a worker (no client work), so its RSS
 * is the worker's. Talks to the parent over IPC:
 *   parent -> { cmd: 'rss' }   child -> { rssNoGc, rss, heapUsed, ... } (MB; all but the
 *                              first after forced GCs)
 *   parent -> { cmd: 'stop' }  child stops the worker and exits.
 * Env: BENCH_NATS_URL, BENCH_HUB, BENCH_BACKEND_OPTIONS and BENCH_WORKER_OPTIONS (JSON).
 */
import { connect } from '@nats-io/transport-node';
import { silentLogger } from '../src/logging/logger.ts';
import { createNatsBackend } from '../src/nats/index.ts';
import { TaskHubWorker } from '../src/runtime/index.ts';
import { registerWorkloads } from './workloads.ts';

interface Command {
  readonly cmd: 'rss' | 'stop';
  /** Force collections before the second reading (default true). */
  readonly gc?: boolean;
}

const MB = 1024 * 1024;

async function main(): Promise<void> {
  const url = process.env['BENCH_NATS_URL'];
  const hub = process.env['BENCH_HUB'];
  if (!url || !hub || !process.send) {
    throw new Error('memory-worker needs IPC, BENCH_NATS_URL and BENCH_HUB');
  }
  const nc = await connect({ servers: url, name: `bench-mem-${hub}`, noAsyncTraces: true });
  const logger = silentLogger();
  const backendOptions = JSON.parse(process.env['BENCH_BACKEND_OPTIONS'] ?? '{}') as object;
  const workerOptions = JSON.parse(process.env['BENCH_WORKER_OPTIONS'] ?? '{}') as object;
  const backend = await createNatsBackend({ ...backendOptions, connection: nc, hub, logger });
  const worker = new TaskHubWorker({ ...workerOptions, backend, logger });
  registerWorkloads(worker);
  await worker.start();
  const send = (m: unknown): void => {
    process.send?.(m);
  };
  process.on('message', (m: Command) => {
    if (m.cmd === 'rss') {
      void (async () => {
        const before = process.memoryUsage().rss;
        // A few full collections, spaced out, so V8 can hand unused pages back.
        const gc = (globalThis as { gc?: () => void }).gc;
        for (let i = 0; i < (m.gc === false ? 0 : 3); i++) {
          gc?.();
          await new Promise((r) => setTimeout(r, 200));
        }
        const u = process.memoryUsage();
        send({ rssNoGc: before / MB, rss: u.rss / MB, heapUsed: u.heapUsed / MB,
          heapTotal: u.heapTotal / MB, external: u.external / MB, arrayBuffers: u.arrayBuffers / MB,
          owned: backend.ownedPartitions().length });
      })();
    } else if (m.cmd === 'stop') {
      void (async () => {
        await worker.stop({ forced: true }).catch(() => undefined);
        await backend.close().catch(() => undefined);
        await nc.drain().catch(() => nc.close());
        process.exit(0);
      })();
    }
  });
  send({ ready: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`memory-worker: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
