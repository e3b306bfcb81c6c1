import type { Backend } from '../core/backend.ts';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { MemoryOrchestrationClient } from './memory-client.ts';
import { MemoryEngine } from './memory-engine.ts';
import { MemoryHub } from './memory-hub.ts';
import {
  joinHubOptions,
  resolveMemoryOptions,
  type MemoryBackendOptions,
  type MemoryFaults,
} from './memory-options.ts';
import { MemoryOrchestrationService } from './memory-service.ts';

/** The in-memory backend: a `Backend` plus its live fault hooks and a few probes for tests. */
export interface MemoryBackend extends Backend {
  readonly kind: 'memory';
  /** The client, with the memory backend's extras (`listDeadLetters`). */
  readonly client: MemoryOrchestrationClient;
  /** The fault hooks in use; tests may change them while the backend runs. */
  readonly faults: MemoryFaults;
  /** Current state of this backend's task-hub machine. */
  readonly hubState: string;
  /** Counts of live internal state, for tests and diagnostics. */
  stats(): MemoryBackendStats;
  /** Messages still queued for one instance: orchestration messages, activities, timers. */
  queuedFor(instanceId: string): number;
}

export interface MemoryBackendStats {
  /** Hub-wide (shared with backends created with `shareStoreWith`). */
  readonly instances: number;
  readonly heldOrchestrationLocks: number;
  readonly heldActivityLocks: number;
  readonly pendingTimers: number;
  readonly pendingActivities: number;
  /** Lock calls of this backend waiting for work. */
  readonly lockWaiters: number;
  /** Instances some client wait listens on (hub-wide). */
  readonly watchedInstances: number;
}

const HUB = Symbol('memoryHub');

function hubOf(backend: unknown): MemoryHub {
  const hub = (backend as { [HUB]?: unknown } | null | undefined)?.[HUB];
  if (!(hub instanceof MemoryHub)) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      "Memory backend option 'shareStoreWith' must be a backend made by createMemoryBackend.");
  }
  return hub;
}

/**
 * Creates the in-process reference backend: the whole worker and client
 * contract in one process, with real lock expiry, timers and scheduled starts
 * on the given clock. Backends share nothing unless one is created with
 * `shareStoreWith` another (a second worker process on the same hub).
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): MemoryBackend {
  const resolved = resolveMemoryOptions(options);
  let hub: MemoryHub;
  let opts = resolved;
  if (options.shareStoreWith !== undefined) {
    hub = hubOf(options.shareStoreWith);
    opts = joinHubOptions(options, resolved, hub.opts);
  } else {
    hub = new MemoryHub(resolved);
  }
  const engine = new MemoryEngine(hub, opts);
  const service = new MemoryOrchestrationService(engine);
  const client = new MemoryOrchestrationClient(engine);
  let closing: Promise<void> | undefined;
  const backend: MemoryBackend = {
    kind: 'memory',
    service,
    client,
    faults: engine.faults,
    get hubState() {
      return engine.lifecycle.state;
    },
    stats() {
      const store = hub.store;
      return {
        instances: store.instances.size,
        heldOrchestrationLocks: store.lockedInstances.size,
        heldActivityLocks: store.lockedActivities.size,
        pendingTimers: store.timers.length,
        pendingActivities: store.activities.size,
        lockWaiters: engine.orchestrationWaiters.size + engine.activityWaiters.size,
        watchedInstances: hub.watch.watchedInstances,
      };
    },
    queuedFor(instanceId) {
      const store = hub.store;
      let n = store.instances.get(instanceId)?.queue.length ?? 0;
      for (const a of store.activities.values()) {
        if (a.message.orchestrationInstance.instanceId === instanceId) n++;
      }
      for (const t of store.timers) if (t.instanceId === instanceId) n++;
      return n;
    },
    close() {
      closing ??= engine.close();
      return closing;
    },
  };
  Object.defineProperty(backend, HUB, { value: hub, enumerable: false });
  return backend;
}
