import type { TestContext } from 'node:test';
import type { Logger } from 'pino';
import type { Backend } from '../../src/core/backend.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { TaskHubClient } from '../../src/runtime/task-hub-client.ts';
import { TaskHubWorker, type TaskHubWorkerOptions } from '../../src/runtime/task-hub-worker.ts';
import { probeExport } from '../support/module-probe.ts';

type Factory = (options: Record<string, unknown>) => Backend;

let counter = 0;

export interface MemoryHub {
  readonly backend: Backend;
  readonly worker: TaskHubWorker;
  readonly client: TaskHubClient;
}

/**
 * A memory backend with a worker and a client, torn down when the test ends.
 * Null (and the test skipped) while the memory backend has not landed.
 */
export async function memoryHub(
  t: TestContext,
  options: {
    backend?: Record<string, unknown>;
    worker?: Omit<TaskHubWorkerOptions, 'backend' | 'service'>;
    logger?: Logger;
    setup?: (worker: TaskHubWorker) => void;
    start?: boolean;
  } = {},
): Promise<MemoryHub | null> {
  const found = await probeExport<Factory>(['../../src/memory/index.ts'], 'createMemoryBackend');
  if ('missing' in found) {
    t.skip(`memory backend not built yet: ${found.missing}`);
    return null;
  }
  const logger = options.logger ?? silentLogger();
  const backend = found.value({ hub: `rt${process.pid % 10000}_${counter++}`, logger,
    ...options.backend });
  const worker = new TaskHubWorker({ backend, logger, ...options.worker });
  options.setup?.(worker);
  t.after(async () => {
    await worker.stop({ forced: true }).catch(() => undefined);
    await backend.close();
  });
  if (options.start !== false) await worker.start();
  else await backend.service.createIfNotExists();
  return { backend, worker, client: new TaskHubClient({ backend, logger }) };
}

export function output(state: { output?: string } | null): unknown {
  return state?.output === undefined ? undefined : JSON.parse(state.output);
}
