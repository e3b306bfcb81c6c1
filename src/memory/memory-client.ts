import { childFailedReport, terminatedChildFailure } from '../core/backend-endings.ts';
import type { DeadLetter, DeadLetterQuery } from '../core/dead-letter.ts';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { withUtcStartTime } from '../core/start-time.ts';
import { newEvent, type HistoryEvent } from '../core/history-event.ts';
import type { OrchestrationState } from '../core/orchestration-state.ts';
import {
  DEFAULT_DEDUPE_STATUSES,
  type CreateOrchestrationOptions,
  type OrchestrationQuery,
  type OrchestrationQueryResult,
  type OrchestrationServiceClient,
  type PurgeInstanceFilter,
  type PurgeResult,
  type WaitOptions,
} from '../core/orchestration-service-client.ts';
import { isLiveStatus, type OrchestrationStatus } from '../core/orchestration-status.ts';
import type { TaskMessage } from '../core/task-message.ts';
import { validateInstanceId, validateTimeoutMs } from '../core/validation.ts';
import {
  instanceCreated,
  instancePurged,
  instanceTerminatedPending,
} from '../logging/memory-events.ts';
import { checkClientMessage, checkCreation, checkDedupeStatuses } from './client-checks.ts';
import { checkPurgeFilter, matchesPurge, queryInstances } from './instance-query.ts';
import type { MemoryEngine } from './memory-engine.ts';
import type { InstanceRecord } from './memory-store.ts';
import { copyState, pendingState, terminatedState } from './records.ts';

/** Yields to the event loop every this many purged instances. */
const PURGE_CHUNK = 100;

/** The client side of the in-memory backend (see `OrchestrationServiceClient`). */
export class MemoryOrchestrationClient implements OrchestrationServiceClient {
  constructor(private readonly e: MemoryEngine) {}

  async createOrchestration(
    creationMessage: TaskMessage,
    options: CreateOrchestrationOptions = {},
  ): Promise<void> {
    checkCreation(creationMessage);
    // Stored (record and start event) with the scheduled start in UTC.
    const message = withUtcStartTime(creationMessage);
    const { event, instanceId, executionId } = checkCreation(message);
    const statuses = checkDedupeStatuses(options?.dedupeStatuses);
    this.e.lifecycle.assertProvisioned('create an orchestration');
    this.e.processDue();
    const store = this.e.store;
    const now = this.e.clock.now();
    const rec = store.instances.get(instanceId);
    let replaced: string | undefined;
    if (!rec) {
      store.enqueue(store.addInstance(pendingState(event, now)), message);
    } else {
      const current = rec.current;
      const status = current.state.orchestrationStatus;
      if (this.blocks(statuses, status)) {
        throw new DurableTaskError(ErrorCode.INSTANCE_EXISTS,
          `An orchestration with instance id '${instanceId}' already exists ` +
          `(execution '${current.executionId}' is ${status}).`);
      }
      if (rec.executions.some((x) => x.executionId === executionId)) {
        throw new DurableTaskError(ErrorCode.INSTANCE_EXISTS,
          `Instance '${instanceId}' already has an execution '${executionId}'.`);
      }
      // Replace: the old execution ends (a live one as Terminated), any lock on it is fenced off.
      store.loseOrchestrationLock(rec);
      if (isLiveStatus(status)) {
        current.state = terminatedState(current.state,
          JSON.stringify(`Replaced by execution ${executionId}.`), now);
        store.dropTimers(instanceId, current.executionId);
      }
      rec.notBefore = 0;
      rec.abandonCount = 0;
      rec.abandonHeadSeq = -1;
      rec.abandonedBy = null;
      replaced = current.executionId;
      store.addExecution(rec, pendingState(event, now));
      store.enqueue(rec, message);
    }
    instanceCreated(this.e.log, {
      instanceId, executionId, replaced, scheduledStartTime: event.scheduledStartTime,
    });
    this.e.tick();
  }

  private blocks(statuses: readonly OrchestrationStatus[] | null, status: OrchestrationStatus):
  boolean {
    if (this.e.opts.dedupeRule === 'legacy') return statuses === null || statuses.includes(status);
    return (statuses ?? DEFAULT_DEDUPE_STATUSES).includes(status);
  }

  sendOrchestrationMessage(message: TaskMessage): Promise<void> {
    return this.sendOrchestrationMessageBatch([message]);
  }

  /** Checks every message first: an unknown target fails the whole batch, nothing is sent. */
  async sendOrchestrationMessageBatch(messages: readonly TaskMessage[]): Promise<void> {
    if (!Array.isArray(messages)) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT, 'The messages must be an array.');
    }
    for (const m of messages) checkClientMessage(m);
    this.e.lifecycle.assertProvisioned('send an orchestration message');
    this.e.processDue();
    for (const m of messages) this.requireInstance(m.orchestrationInstance.instanceId);
    for (const m of messages) this.e.store.route(m);
    this.e.tick();
  }

  waitForOrchestration(
    instanceId: string,
    options: WaitOptions,
  ): Promise<OrchestrationState | null> {
    try {
      validateInstanceId(instanceId);
      if (typeof options !== 'object' || options === null) {
        throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT, 'The wait options are required.');
      }
      validateTimeoutMs(options.timeoutMs, 'wait timeout');
      if (options.executionId !== undefined && typeof options.executionId !== 'string') {
        throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT, 'The executionId must be a string.');
      }
      this.e.lifecycle.assertProvisioned('wait for an orchestration');
      this.e.processDue();
    } catch (err) {
      return Promise.reject(err);
    }
    const { executionId, timeoutMs, signal } = options;
    const check = (): OrchestrationState | null => this.finalState(instanceId, executionId);
    const found = check();
    if (found) return Promise.resolve(found);
    if (signal?.aborted) return Promise.reject(aborted(instanceId, signal));
    if (timeoutMs === 0) return Promise.resolve(null);
    return new Promise<OrchestrationState | null>((resolve, reject) => {
      const sleep = new AbortController();
      let done = false;
      const finish = (settle: () => void): void => {
        if (done) return;
        done = true;
        offWatch();
        offStop();
        sleep.abort();
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const offWatch = this.e.watch.on(instanceId, () => {
        const state = check();
        if (state) finish(() => resolve(state));
      });
      const offStop = this.e.onStop(() => finish(() => resolve(null)));
      const onAbort = (): void => finish(() => reject(aborted(instanceId, signal!)));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(timeoutMs)) {
        this.e.clock.sleep(timeoutMs, sleep.signal)
          .then(() => finish(() => resolve(null)), () => undefined);
      }
    });
  }

  /**
   * The final record the wait is for: of the named execution (ContinuedAsNew
   * counts), or of the latest one (ContinuedAsNew does not: the next follows).
   */
  private finalState(
    instanceId: string,
    executionId: string | undefined,
  ): OrchestrationState | null {
    const rec = this.e.store.instances.get(instanceId);
    if (!rec) return null;
    const exec = executionId === undefined
      ? rec.current : this.e.store.findExecution(rec, executionId);
    if (!exec) return null;
    const status = exec.state.orchestrationStatus;
    if (isLiveStatus(status)) return null;
    if (executionId === undefined && status === 'ContinuedAsNew') return null;
    return copyState(exec.state);
  }

  async forceTerminateOrchestration(
    instanceId: string,
    reason?: string,
    options: { recursive?: boolean } = {},
  ): Promise<void> {
    validateInstanceId(instanceId);
    if (reason !== undefined && typeof reason !== 'string') {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        'The termination reason must be a string (serialized payload) or absent.');
    }
    this.e.lifecycle.assertProvisioned('terminate an orchestration');
    this.e.processDue();
    const rec = this.requireInstance(instanceId);
    const seen = new Set<InstanceRecord>();
    const terminate = (target: InstanceRecord): void => {
      if (seen.has(target)) return;
      seen.add(target);
      const children = options?.recursive ? this.liveChildren(target) : [];
      const status = target.current.state.orchestrationStatus;
      if (status === 'Pending') this.terminatePending(target, reason);
      else if (isLiveStatus(status)) {
        const event = newEvent({
          type: 'ExecutionTerminated', ...(reason !== undefined ? { input: reason } : {}),
        }, this.e.clock.now());
        this.e.store.route({ event, orchestrationInstance: { instanceId: target.instanceId } });
      }
      for (const child of children) terminate(child);
    };
    terminate(rec);
    this.e.tick();
  }

  /** Live sub-orchestrations started by the current execution of `rec`. */
  private liveChildren(rec: InstanceRecord): InstanceRecord[] {
    const out: InstanceRecord[] = [];
    for (const e of rec.current.history) {
      if (e.type !== 'SubOrchestrationInstanceCreated') continue;
      const child = this.e.store.instances.get(e.instanceId);
      const parent = child?.current.state.parentInstance?.orchestrationInstance;
      if (child && isLiveStatus(child.current.state.orchestrationStatus) &&
        parent?.instanceId === rec.instanceId && parent.executionId === rec.current.executionId) {
        out.push(child);
      }
    }
    return out;
  }

  /** Ends a Pending execution without running it; a parent hears of it as a failed child. */
  private terminatePending(rec: InstanceRecord, reason: string | undefined): void {
    const store = this.e.store;
    const now = this.e.clock.now();
    const exec = rec.current;
    store.loseOrchestrationLock(rec);
    exec.state = terminatedState(exec.state, reason, now);
    store.dropTimers(rec.instanceId, exec.executionId);
    store.prune(rec);
    store.onStatusChange(rec.instanceId);
    instanceTerminatedPending(this.e.log, {
      instanceId: rec.instanceId, executionId: exec.executionId,
    });
    // A parent hears of it in the same shape as of a child the runtime terminated.
    const report = childFailedReport(exec.state.parentInstance, exec.state.tags,
      terminatedChildFailure(rec.instanceId, reason), now);
    if (report) store.route(report);
  }

  async getOrchestrationState(
    instanceId: string,
    options: { allExecutions?: boolean } = {},
  ): Promise<OrchestrationState[]> {
    validateInstanceId(instanceId);
    this.e.lifecycle.assertProvisioned('read an orchestration state');
    const rec = this.e.store.instances.get(instanceId);
    if (!rec) return [];
    if (!options?.allExecutions) return [copyState(rec.current.state)];
    return rec.executions.map((x) => copyState(x.state)).reverse();
  }

  async getOrchestrationStateOfExecution(
    instanceId: string,
    executionId: string,
  ): Promise<OrchestrationState | null> {
    validateInstanceId(instanceId);
    if (typeof executionId !== 'string' || executionId === '') {
      // As the NATS backend: no execution has an empty id.
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `An execution id must be a non-empty string, got ${JSON.stringify(executionId)}.`);
    }
    this.e.lifecycle.assertProvisioned('read an orchestration state');
    const rec = this.e.store.instances.get(instanceId);
    const exec = rec ? this.e.store.findExecution(rec, executionId) : undefined;
    return exec ? copyState(exec.state) : null;
  }

  async getOrchestrationHistory(instanceId: string, executionId?: string): Promise<HistoryEvent[]> {
    validateInstanceId(instanceId);
    this.e.lifecycle.assertProvisioned('read an orchestration history');
    const rec = this.e.store.instances.get(instanceId);
    if (!rec) return [];
    const exec = executionId === undefined
      ? rec.current : this.e.store.findExecution(rec, executionId);
    return exec ? [...exec.history] : [];
  }

  async purgeInstanceState(
    instanceId: string,
    options: { recursive?: boolean } = {},
  ): Promise<PurgeResult> {
    validateInstanceId(instanceId);
    this.e.lifecycle.assertProvisioned('purge an orchestration');
    this.e.processDue();
    const rec = this.e.store.instances.get(instanceId);
    if (!rec) return { deletedInstanceCount: 0, isComplete: true };
    const tree = options?.recursive ? this.descendants(rec) : [rec];
    for (const r of tree) {
      const status = r.current.state.orchestrationStatus;
      if (isLiveStatus(status)) {
        throw new DurableTaskError(ErrorCode.NOT_COMPLETED,
          `Cannot purge instance '${r.instanceId}': it is ${status}; terminate it or wait for ` +
          'it to finish first.');
      }
    }
    for (const r of tree) this.remove(r);
    this.e.tick();
    return { deletedInstanceCount: tree.length, isComplete: true };
  }

  /** `rec` and every instance it started (in any execution), transitively. */
  private descendants(rec: InstanceRecord): InstanceRecord[] {
    const out = new Set<InstanceRecord>([rec]);
    for (const r of out) {
      for (const exec of r.executions) {
        for (const e of exec.history) {
          if (e.type !== 'SubOrchestrationInstanceCreated') continue;
          const child = this.e.store.instances.get(e.instanceId);
          if (child && child.executions.some((x) =>
            x.state.parentInstance?.orchestrationInstance.instanceId === r.instanceId)) {
            out.add(child);
          }
        }
      }
    }
    return [...out];
  }

  private remove(rec: InstanceRecord): void {
    this.e.store.removeInstance(rec);
    this.e.hub.poison.forget(rec.instanceId);
    instancePurged(this.e.log, { instanceId: rec.instanceId, executions: rec.executions.length });
  }

  async purgeInstances(filter: PurgeInstanceFilter): Promise<PurgeResult> {
    const f = checkPurgeFilter(filter);
    this.e.lifecycle.assertProvisioned('purge orchestrations');
    this.e.processDue();
    const deadline = f.timeoutMs === null ? Infinity : this.e.clock.now() + f.timeoutMs;
    const targets = [...this.e.store.instances.values()].filter((r) => matchesPurge(r, f));
    let deleted = 0;
    for (const rec of targets) {
      if (this.e.clock.now() >= deadline) {
        this.e.tick();
        return { deletedInstanceCount: deleted, isComplete: false };
      }
      // The store may have changed while yielding: purge only what still matches.
      if (this.e.store.instances.get(rec.instanceId) !== rec || !matchesPurge(rec, f)) continue;
      this.remove(rec);
      deleted++;
      if (deleted % PURGE_CHUNK === 0) await new Promise<void>((r) => setImmediate(r));
    }
    this.e.tick();
    return { deletedInstanceCount: deleted, isComplete: f.timeoutMs === null ? null : true };
  }

  async queryInstances(query: OrchestrationQuery, signal?: AbortSignal):
  Promise<OrchestrationQueryResult> {
    if (signal?.aborted) {
      throw new DurableTaskError(ErrorCode.ABORTED, 'The query was aborted.',
        { cause: signal.reason });
    }
    this.e.lifecycle.assertProvisioned('query orchestrations');
    return queryInstances(this.e.store.instances, query);
  }

  /** Messages this hub dead-lettered, oldest first. */
  async listDeadLetters(query?: DeadLetterQuery): Promise<DeadLetter[]> {
    this.e.lifecycle.assertProvisioned('list dead letters');
    return this.e.hub.poison.list(query);
  }

  private requireInstance(instanceId: string): InstanceRecord {
    const rec = this.e.store.instances.get(instanceId);
    if (!rec) {
      throw new DurableTaskError(ErrorCode.INSTANCE_NOT_FOUND,
        `No orchestration instance with id '${instanceId}' exists.`);
    }
    return rec;
  }
}

function aborted(instanceId: string, signal: AbortSignal): DurableTaskError {
  return new DurableTaskError(ErrorCode.ABORTED,
    `Waiting for orchestration '${instanceId}' was aborted.`, { cause: signal.reason });
}
