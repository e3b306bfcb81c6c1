import type { OrchestrationExecutor } from './orchestration-executor.ts';

interface Entry {
  readonly executionId: string;
  readonly executor: OrchestrationExecutor;
}

/**
 * Live executors of instances this worker recently ran (extended sessions),
 * least recently used evicted first. An entry serves a work item only when
 * the execution is the same and the stored history is exactly as long as
 * what the executor has seen; otherwise the orchestration is replayed.
 */
export class ExecutorCache {
  readonly #entries = new Map<string, Entry>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = Math.max(0, capacity);
  }

  /** Removes and returns the executor for this exact history, if cached. */
  take(instanceId: string, executionId: string,
    historyLength: number): OrchestrationExecutor | undefined {
    const entry = this.#entries.get(instanceId);
    if (!entry) return undefined;
    this.#entries.delete(instanceId);
    if (entry.executionId !== executionId || entry.executor.processedEventCount !== historyLength) {
      return undefined;
    }
    return entry.executor;
  }

  put(instanceId: string, executionId: string, executor: OrchestrationExecutor): void {
    if (this.#capacity === 0) return;
    this.#entries.delete(instanceId);
    this.#entries.set(instanceId, { executionId, executor });
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  evict(instanceId: string): void {
    this.#entries.delete(instanceId);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
