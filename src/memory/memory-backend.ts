import type { Backend } from '../core/backend.ts';
import { MemoryOrchestrationClient } from './memory-client.ts';
import { MemoryEngine } from './memory-engine.ts';
import {
  resolveMemoryOptions,
  type MemoryBackendOptions,
  type MemoryFaults,
} from './memory-options.ts';
import { MemoryOrchestrationService } from './memory-service.ts';

/** The in-memory backend: a `Backend` plus its live fault hooks and a few probes for tests. */
export interface MemoryBackend extends Backend {
  readonly kind: 'memory';
  /** The fault hooks in use; tests may change them while the backend runs. */
  readonly faults: MemoryFaults;
  /** Current state of the task-hub machine. */
  readonly hubState: string;
  /** Counts of live internal state, for tests and diagnostics. */
  stats(): MemoryBackendStats;
}

export interface MemoryBackendStats {
  readonly instances: number;
  readonly heldOrchestrationLocks: number;
  readonly heldActivityLocks: number;
  readonly pendingTimers: number;
  readonly pendingActivities: number;
  /** Lock calls waiting for work. */
  readonly lockWaiters: number;
  /** Instances some client wait listens on. */
  readonly watchedInstances: number;
}

/**
 * Creates the in-process reference backend: the whole worker and client
 * contract in one process, with real lock expiry, timers and scheduled starts
 * on the given clock. Nothing is shared between two backends.
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): MemoryBackend {
  const engine = new MemoryEngine(resolveMemoryOptions(options));
  const service = new MemoryOrchestrationService(engine);
  const client = new MemoryOrchestrationClient(engine);
  let closing: Promise<void> | undefined;
  return {
    kind: 'memory',
    service,
    client,
    faults: engine.faults,
    get hubState() {
      return engine.lifecycle.state;
    },
    stats() {
      const store = engine.store;
      return {
        instances: store.instances.size,
        heldOrchestrationLocks: store.lockedInstances.size,
        heldActivityLocks: store.lockedActivities.size,
        pendingTimers: store.timers.length,
        pendingActivities: store.activities.size,
        lockWaiters: engine.orchestrationWaiters.size + engine.activityWaiters.size,
        watchedInstances: engine.watch.watchedInstances,
      };
    },
    close() {
      closing ??= engine.close();
      return closing;
    },
  };
}
