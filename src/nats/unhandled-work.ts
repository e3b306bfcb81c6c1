import type { OrchestrationWorkItem } from '../core/work-item.ts';

/**
 * Instances of owned partitions whose last work item this worker abandoned
 * as not handled (its orchestration is not registered here), by partition,
 * with the orchestration name. The lease manager hands such a partition to a
 * live worker that registered the name (field report F16).
 */
export class UnhandledWork {
  private readonly byPartition = new Map<number, Map<string, string>>();

  /** Records that the instance `token` of `partition` waits for orchestration `name`. */
  note(partition: number, token: string, item: OrchestrationWorkItem): void {
    const name = orchestrationName(item);
    if (name === undefined) return;
    let names = this.byPartition.get(partition);
    if (!names) {
      names = new Map();
      this.byPartition.set(partition, names);
    }
    names.set(token, name);
  }

  /** The instance was checkpointed: someone handled it. */
  done(partition: number, token: string): void {
    const names = this.byPartition.get(partition);
    if (!names?.delete(token)) return;
    if (names.size === 0) this.byPartition.delete(partition);
  }

  dropPartition(partition: number): void {
    this.byPartition.delete(partition);
  }

  /** Orchestration names instances of `partition` wait for. */
  names(partition: number): ReadonlySet<string> {
    return new Set(this.byPartition.get(partition)?.values());
  }
}

function orchestrationName(item: OrchestrationWorkItem): string | undefined {
  const started = item.orchestrationRuntimeState.executionStartedEvent;
  if (started) return started.name;
  for (const m of item.newMessages) {
    if (m.event.type === 'ExecutionStarted') return m.event.name;
  }
  return undefined;
}
