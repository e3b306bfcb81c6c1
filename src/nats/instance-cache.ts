import type { HistoryEvent } from '../core/history-event.ts';
import type { OrchestrationStatus } from '../core/orchestration-status.ts';
import type { RuntimeStateFold } from '../core/runtime-state.ts';
import type { InstanceRecord } from './wire.ts';

/** What an owner knows about one instance between episodes. */
export interface CachedInstance {
  readonly partition: number;
  /** Last commit sequence of the instance's subject (0: none). */
  revision: number;
  executionId: string | null;
  execStart: number | null;
  /**
   * History of the current execution. Never changed in place (runtime states
   * share it): a commit replaces it with the longer array.
   */
  events: HistoryEvent[];
  /** What a runtime state folded from `events`, when known (resumed without a refold). */
  fold?: RuntimeStateFold | undefined;
  /** Event ids of the TaskCompleted events in `events` (ids >= 0), with `fold`. */
  completions?: Set<number> | undefined;
  customStatus: string | null | undefined;
  status: OrchestrationStatus | null;
  applied: Set<number>;
  /** Latest record and its KV revision, when known. */
  record: { readonly value: InstanceRecord; readonly revision: number } | undefined;
}

/**
 * History cache of the instances in owned partitions, bounded by count (least
 * recently used go first). Entries of a partition are dropped when its lease
 * is lost; an entry is dropped when a commit loses its revision check.
 */
export class InstanceCache {
  private readonly entries = new Map<string, CachedInstance>();

  constructor(private readonly capacity: number) {}

  get(token: string): CachedInstance | undefined {
    const entry = this.entries.get(token);
    if (entry) {
      this.entries.delete(token);
      this.entries.set(token, entry);
    }
    return entry;
  }

  /** The entry without making it the most recently used. */
  peek(token: string): CachedInstance | undefined {
    return this.entries.get(token);
  }

  set(token: string, entry: CachedInstance): void {
    this.entries.delete(token);
    this.entries.set(token, entry);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  dropPartition(partition: number): void {
    for (const [token, entry] of this.entries) {
      if (entry.partition === partition) this.entries.delete(token);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
