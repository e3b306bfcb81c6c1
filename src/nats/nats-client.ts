import { childFailedReport, terminatedChildFailure } from '../core/backend-endings.ts';
import type { DeadLetter, DeadLetterQuery } from '../core/dead-letter.ts';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { withUtcStartTime } from '../core/start-time.ts';
import type { ExecutionStartedEvent, HistoryEvent } from '../core/history-event.ts';
import {
  DEFAULT_DEDUPE_STATUSES, type CreateOrchestrationOptions, type OrchestrationQuery,
  type OrchestrationQueryResult, type OrchestrationServiceClient, type PurgeInstanceFilter,
  type PurgeResult, type WaitOptions,
} from '../core/orchestration-service-client.ts';
import { fromStoredState, type OrchestrationState } from '../core/orchestration-state.ts';
import {
  isLiveStatus, isTerminalStatus, type OrchestrationStatus,
} from '../core/orchestration-status.ts';
import { serializePayload } from '../core/payload.ts';
import { taskMessage, type TaskMessage } from '../core/task-message.ts';
import { validateInstanceId, validateTimeoutMs } from '../core/validation.ts';
import type { Logger } from '../logging/logger.ts';
import type { CommitLog } from './commit-log.ts';
import { listDeadLetters, purgeDeadLetters } from './dead-letters.ts';
import type { HubResources } from './hub-resources.ts';
import type { InstanceStore } from './instance-store.ts';
import { InstanceWaiter } from './instance-waiter.ts';
import { encodeInstanceId } from './names.ts';
import { backendError, isWrongLastSequence } from './nats-errors.ts';
import { requestMux } from './request-mux.ts';
import { pendingRecord } from './pending-record.ts';
import { checkHubConfig } from './provisioning.ts';
import { decodeQueryToken, encodeQueryToken } from './query-token.ts';
import { removeTimerKey } from './timer-index.ts';
import { encodeJson, toWireMessage, type InstanceRecord, type TimerEntry } from './wire.ts';

const MAX_CAS_ATTEMPTS = 4;
const MAX_RECURSION_DEPTH = 32;
const PURGE_BATCH = 64;

/** Where an instance lives: its token and partition. */
interface Address {
  readonly instanceId: string;
  readonly token: string;
  readonly partition: number;
}

/**
 * The client side of a NATS task hub: creates instances (record first, then
 * the start message), sends messages, waits, terminates, reads state and
 * history, purges and queries.
 */
export class NatsOrchestrationClient implements OrchestrationServiceClient {
  private readonly waiter: InstanceWaiter;
  private hubChecked: Promise<void> | undefined;

  constructor(
    private readonly res: HubResources,
    private readonly store: InstanceStore,
    private readonly commitLog: CommitLog,
    log: Logger,
    /** Drops an instance's cached history in this process (after a purge). */
    private readonly forget: (token: string) => void,
  ) {
    this.waiter = new InstanceWaiter(res, log);
  }

  close(): void {
    this.waiter.close();
  }

  /** Checks once that the hub exists with this process's configuration. */
  private ready(): Promise<void> {
    this.hubChecked ??= checkHubConfig(this.res, false).catch((err) => {
      this.hubChecked = undefined;
      throw err;
    });
    return this.hubChecked;
  }

  private address(instanceId: string): Address {
    validateInstanceId(instanceId);
    return { instanceId, token: encodeInstanceId(instanceId),
      partition: this.res.names.partitionOf(instanceId) };
  }

  private orchSubject(a: Address): string {
    return this.res.names.orchSubject(a.partition, a.token);
  }

  // ---- create

  async createOrchestration(creation: TaskMessage, options?: CreateOrchestrationOptions):
    Promise<void> {
    // Stored (record and start event) with the scheduled start in UTC.
    const creationMessage = withUtcStartTime(creation);
    const event = creationMessage.event;
    if (event.type !== 'ExecutionStarted') {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `A creation message must carry an ExecutionStarted event, got ${event.type}.`);
    }
    const a = this.address(event.orchestrationInstance.instanceId);
    await this.ready();
    const executionId = event.orchestrationInstance.executionId;
    const now = this.res.options.clock.now();
    const wire = await this.res.payloads.externalizeMessage(toWireMessage(creationMessage));
    const record = pendingRecord(wire.event as ExecutionStartedEvent, now);
    const revision = await this.writePendingRecord(a, record, options?.dedupeStatuses);

    try {
      const scheduled = event.scheduledStartTime !== undefined &&
        Date.parse(event.scheduledStartTime) > now;
      const id = this.res.names.startMessageId(a.token, executionId);
      if (scheduled) {
        const timer: TimerEntry = { subject: this.orchSubject(a), id,
          fireAt: event.scheduledStartTime as string, msg: wire };
        await this.res.timers.put(this.startTimerKey(a, executionId), encodeJson(timer));
      } else {
        await requestMux(this.res).publish(this.orchSubject(a), encodeJson(wire), { msgID: id });
      }
    } catch (err) {
      // Best effort: do not leave a Pending record whose start was never sent.
      await this.res.instances.delete(a.token, { previousSeq: revision }).catch(() => undefined);
      throw backendError(`Starting instance '${a.instanceId}'`, err);
    }
  }

  private startTimerKey(a: Address, executionId: string): string {
    return this.res.names.timerKey(a.partition, a.token, executionId, 'start');
  }

  /** Record first: create-if-absent, or update by revision when dedupe allows a restart. */
  private async writePendingRecord(a: Address, record: InstanceRecord,
    dedupeStatuses: readonly OrchestrationStatus[] | null | undefined): Promise<number> {
    // A new id (the common case) costs one create; an existing one is read and deduped.
    try {
      return await this.store.create(a.token, record);
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const stored = await this.store.read(a.token);
      try {
        if (!stored) return await this.store.create(a.token, record);
        const status = stored.record.orchestrationStatus;
        if (this.blocks(status, dedupeStatuses)) {
          throw new DurableTaskError(ErrorCode.INSTANCE_EXISTS,
            `An instance with id ${JSON.stringify(a.instanceId)} already exists with status ` +
            `${status}.`);
        }
        const oldExec = stored.record.orchestrationInstance.executionId;
        if (status === 'Running' || status === 'Suspended') {
          // The live execution is terminated first, then replaced.
          await this.publishTerminate(a,
            serializePayload('Replaced by a new execution.', 'termination reason'));
        } else if (status === 'Pending') {
          await removeTimerKey(this.res, this.startTimerKey(a, oldExec)).catch(() => undefined);
        }
        // The replaced execution stops being the latest: it keeps its own record from now on.
        if (oldExec !== record.orchestrationInstance.executionId) {
          await this.store.writeExecution(a.token, stored.record);
        }
        return await this.store.update(a.token, record, stored.revision);
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
    throw new DurableTaskError(ErrorCode.INSTANCE_EXISTS,
      `Instance ${JSON.stringify(a.instanceId)} is being created concurrently; try again.`);
  }

  private blocks(status: OrchestrationStatus,
    dedupeStatuses: readonly OrchestrationStatus[] | null | undefined): boolean {
    if (dedupeStatuses) return dedupeStatuses.includes(status);
    if (this.res.options.dedupeRule === 'legacy') return true;
    return DEFAULT_DEDUPE_STATUSES.includes(status);
  }

  // ---- messages

  async sendOrchestrationMessage(message: TaskMessage): Promise<void> {
    await this.sendOrchestrationMessageBatch([message]);
  }

  async sendOrchestrationMessageBatch(messages: readonly TaskMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.ready();
    const addresses = messages.map((m) => this.address(m.orchestrationInstance.instanceId));
    const distinct = [...new Map(addresses.map((a) => [a.token, a])).values()];
    const found = await Promise.all(distinct.map((a) => this.store.read(a.token)));
    const missing = distinct.filter((_a, i) => !found[i]);
    if (missing.length > 0) {
      throw new DurableTaskError(ErrorCode.INSTANCE_NOT_FOUND,
        `No instance with id ${JSON.stringify(missing[0]?.instanceId)} exists.`);
    }
    const wires = await Promise.all(messages.map((m) =>
      this.res.payloads.externalizeMessage(toWireMessage(m))));
    await Promise.all(wires.map((w, i) =>
      this.res.js.publish(this.orchSubject(addresses[i] as Address), encodeJson(w))));
  }

  /** `reason` is the serialized termination reason (JSON text), as the runtime passes it. */
  private async publishTerminate(a: Address, reason: string | undefined): Promise<void> {
    const input = reason;
    const msg = taskMessage({
      type: 'ExecutionTerminated', eventId: -1, timestamp: new Date().toISOString(),
      ...(input !== undefined ? { input } : {}),
    }, { instanceId: a.instanceId });
    const wire = await this.res.payloads.externalizeMessage(toWireMessage(msg));
    await this.res.js.publish(this.orchSubject(a), encodeJson(wire));
  }

  // ---- wait

  async waitForOrchestration(instanceId: string, options: WaitOptions):
    Promise<OrchestrationState | null> {
    validateTimeoutMs(options.timeoutMs, 'wait timeout');
    const a = this.address(instanceId);
    await this.ready();
    const wanted = options.executionId;
    // Decided from the latest record an update carries; another execution's record is read.
    const check = async (rec: InstanceRecord | null): Promise<InstanceRecord | null> => {
      if (!rec) return null;
      if (wanted === undefined) return isTerminalStatus(rec.orchestrationStatus) ? rec : null;
      if (rec.orchestrationInstance.executionId === wanted) return endedExecution(rec);
      const own = await this.store.readExecution(a.token, wanted);
      return own ? endedExecution(own.record) : null;
    };
    const read = async (): Promise<InstanceRecord | null> =>
      (await this.store.read(a.token))?.record ?? null;
    const rec = await this.waiter.wait(this.res.names.instanceKey(a.token), check, read,
      options.timeoutMs, options.signal);
    return rec ? this.toState(rec) : null;
  }

  private async toState(rec: InstanceRecord): Promise<OrchestrationState> {
    const { commitSeq: _seq, ...stored } = await this.res.payloads.resolve(rec);
    return fromStoredState(stored);
  }

  // ---- terminate

  async forceTerminateOrchestration(instanceId: string, reason?: string,
    options?: { recursive?: boolean }): Promise<void> {
    const a = this.address(instanceId);
    await this.ready();
    await this.terminate(a, reason, options?.recursive === true, 0, new Set());
  }

  /**
   * `sentStart`: for a child found in its parent's commits, the start the
   * parent's outbox carries. A child without a record yet (its start not sent
   * yet) gets a Terminated record for that execution, so the start is
   * dropped when it arrives and the child never runs.
   */
  private async terminate(a: Address, reason: string | undefined, recursive: boolean,
    depth: number, seen: Set<string>, mustExist = true,
    sentStart?: ExecutionStartedEvent): Promise<void> {
    if (seen.has(a.token)) return;
    seen.add(a.token);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const stored = await this.store.read(a.token);
      if (!stored && sentStart) {
        const now = new Date(this.res.options.clock.now()).toISOString();
        const base = pendingRecord(sentStart, this.res.options.clock.now());
        const terminated: InstanceRecord = { ...base, orchestrationStatus: 'Terminated',
          lastUpdatedTime: now, completedTime: now, ...(reason !== undefined ? { output: reason }
            : {}) };
        try {
          await this.store.create(a.token, await this.res.payloads.externalize(terminated));
        } catch (err) {
          if (isWrongLastSequence(err)) continue;
          throw err;
        }
        await this.reportTerminatedChild(a, terminated, reason);
        break;
      }
      if (!stored) {
        if (!mustExist) return;
        throw new DurableTaskError(ErrorCode.INSTANCE_NOT_FOUND,
          `No instance with id ${JSON.stringify(a.instanceId)} exists.`);
      }
      const rec = stored.record;
      const status = rec.orchestrationStatus;
      if (status === 'Pending') {
        // Never started: straight to Terminated, no user code runs.
        const now = new Date(this.res.options.clock.now()).toISOString();
        const output = reason;
        const terminated: InstanceRecord = { ...rec, orchestrationStatus: 'Terminated',
          lastUpdatedTime: now, completedTime: now, ...(output !== undefined ? { output } : {}) };
        try {
          await this.store.update(a.token, await this.res.payloads.externalize(terminated),
            stored.revision);
        } catch (err) {
          if (isWrongLastSequence(err)) continue;
          throw err;
        }
        const exec = rec.orchestrationInstance.executionId;
        await removeTimerKey(this.res, this.startTimerKey(a, exec)).catch(() => undefined);
        // Covers a worker that already picked up the start before the record changed.
        await this.publishTerminate(a, reason);
        await this.reportTerminatedChild(a, rec, reason);
      } else if (status === 'Running' || status === 'Suspended') {
        await this.publishTerminate(a, reason);
      }
      break;
    }
    if (recursive && depth < MAX_RECURSION_DEPTH) {
      for (const [child, start] of await this.childrenOf(a)) {
        await this.terminate(this.address(child), reason, true, depth + 1, seen, false, start);
      }
    }
  }

  /**
   * Tells the parent of a Pending child terminated before it ran, in the shape
   * of the runtime's own report and with the id of the child's own report
   * (`<child>:<execution>:done:<task>`), so a worker that started the child
   * meanwhile and reports too is deduplicated.
   */
  private async reportTerminatedChild(a: Address, rec: InstanceRecord,
    reason: string | undefined): Promise<void> {
    const now = this.res.options.clock.now();
    const report = childFailedReport(rec.parentInstance, rec.tags,
      terminatedChildFailure(a.instanceId, reason), now);
    if (!report || report.event.type !== 'SubOrchestrationInstanceFailed') return;
    const parent = this.address(report.orchestrationInstance.instanceId);
    const id = this.res.names.outboxMessageId(a.token, rec.orchestrationInstance.executionId,
      'done', report.event.taskScheduledId);
    await this.res.js.publish(this.orchSubject(parent), encodeJson(toWireMessage(report)),
      { msgID: id });
  }

  /** Instance ids of the sub-orchestrations an instance started (all executions). */
  private async childrenOf(a: Address): Promise<Map<string, ExecutionStartedEvent | undefined>> {
    const children = new Map<string, ExecutionStartedEvent | undefined>();
    const last = await this.commitLog.readLast(a.partition, a.token);
    if (!last) return children;
    await this.commitLog.forEachCommit(a.partition, a.token, 1, last.seq, (_seq, c) => {
      for (const e of [...c.events, ...(c.prev?.events ?? [])]) {
        if (e.type === 'SubOrchestrationInstanceCreated') children.set(e.instanceId, undefined);
      }
      // The latest start sent to each child (a retried child has several).
      for (const o of c.outbox) {
        const e = o.msg.event;
        if (o.k === 'msg' && e.type === 'ExecutionStarted' && e.parentInstance !== undefined &&
          e.orchestrationInstance.instanceId !== a.instanceId) {
          children.set(e.orchestrationInstance.instanceId, e);
        }
      }
    });
    return children;
  }

  // ---- state and history

  async getOrchestrationState(instanceId: string, options?: { allExecutions?: boolean }):
    Promise<OrchestrationState[]> {
    const a = this.address(instanceId);
    await this.ready();
    const latest = await this.store.read(a.token);
    if (!latest) return [];
    const out = [latest.record];
    if (options?.allExecutions) {
      const latestExec = latest.record.orchestrationInstance.executionId;
      const others = (await this.store.listExecutions(a.token))
        .filter((r) => r.orchestrationInstance.executionId !== latestExec)
        .sort((x, y) => y.createdTime.localeCompare(x.createdTime) || y.commitSeq - x.commitSeq);
      out.push(...others);
    }
    return Promise.all(out.map((r) => this.toState(r)));
  }

  async getOrchestrationStateOfExecution(instanceId: string, executionId: string):
    Promise<OrchestrationState | null> {
    const a = this.address(instanceId);
    await this.ready();
    const [own, latest] = await Promise.all([
      this.store.readExecution(a.token, executionId), this.store.read(a.token),
    ]);
    const pick = latest && latest.record.orchestrationInstance.executionId === executionId &&
      (!own || latest.record.commitSeq >= own.record.commitSeq) ? latest.record : own?.record;
    return pick ? this.toState(pick) : null;
  }

  async getOrchestrationHistory(instanceId: string, executionId?: string):
    Promise<HistoryEvent[]> {
    const a = this.address(instanceId);
    await this.ready();
    return (await this.commitLog.readHistory(a.partition, a.token, executionId)) ?? [];
  }

  // ---- purge

  async purgeInstanceState(instanceId: string, options?: { recursive?: boolean }):
    Promise<PurgeResult> {
    const a = this.address(instanceId);
    await this.ready();
    const count = await this.purgeOne(a, options?.recursive === true, 0, new Set(), true);
    return { deletedInstanceCount: count, isComplete: true };
  }

  private async purgeOne(a: Address, recursive: boolean, depth: number, seen: Set<string>,
    strict: boolean): Promise<number> {
    if (seen.has(a.token)) return 0;
    seen.add(a.token);
    const stored = await this.store.read(a.token);
    if (!stored) return 0;
    const status = stored.record.orchestrationStatus;
    if (isLiveStatus(status)) {
      if (!strict) return 0;
      throw new DurableTaskError(ErrorCode.NOT_COMPLETED,
        `Instance ${JSON.stringify(a.instanceId)} is ${status}; only finished instances ` +
        'can be purged (terminate it first).');
    }
    let count = 0;
    if (recursive && depth < MAX_RECURSION_DEPTH) {
      for (const child of (await this.childrenOf(a)).keys()) {
        count += await this.purgeOne(this.address(child), true, depth + 1, seen, false);
      }
    }
    await this.removeInstance(a);
    return count + 1;
  }

  /**
   * History first, then pending messages and timers, then the records, then
   * the object-store blobs named after the instance (large payloads, commit
   * bodies).
   */
  private async removeInstance(a: Address): Promise<void> {
    const { jsm, names } = this.res;
    try {
      await jsm.streams.purge(names.histStream,
        { filter: names.histSubject(a.partition, a.token) });
      await Promise.all([
        jsm.streams.purge(names.orchStream, { filter: this.orchSubject(a) }),
        jsm.streams.purge(names.actStream, { filter: names.actSubject(a.partition, a.token) }),
        purgeDeadLetters(this.res, a.partition, a.token),
      ]);
      const timerKeys = await this.collectTimerKeys(a);
      await Promise.all(timerKeys.map((k) => removeTimerKey(this.res, k)));
      await this.store.purge(a.token);
      await this.res.payloads.deleteOwned(a.token);
    } catch (err) {
      throw backendError(`Purging instance '${a.instanceId}'`, err);
    }
    this.forget(a.token);
  }

  private async collectTimerKeys(a: Address): Promise<string[]> {
    const iter = await this.res.timers.keys(this.res.names.timerInstanceFilter(a.partition,
      a.token));
    const keys: string[] = [];
    for await (const k of iter) keys.push(k);
    return keys;
  }

  async purgeInstances(filter: PurgeInstanceFilter): Promise<PurgeResult> {
    await this.ready();
    const from = filter.createdTimeFrom.getTime();
    const to = filter.createdTimeTo ? filter.createdTimeTo.getTime() : Number.POSITIVE_INFINITY;
    const statuses = (filter.runtimeStatus ?? ['Completed', 'Failed', 'Terminated', 'Canceled'])
      .filter((s) => isTerminalStatus(s));
    const timeoutMs = filter.timeoutMs ?? undefined;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const matches: string[] = [];
    let complete = await this.store.scanLatest((rec) => {
      const created = Date.parse(rec.createdTime);
      if (created >= from && created < to && statuses.includes(rec.orchestrationStatus)) {
        matches.push(rec.orchestrationInstance.instanceId);
      }
    }, deadline === undefined ? {} : { deadline });
    let count = 0;
    // Bounded batches, each purged in parallel.
    for (let i = 0; i < matches.length; i += PURGE_BATCH) {
      if (deadline !== undefined && Date.now() > deadline) {
        complete = false;
        break;
      }
      const batch = matches.slice(i, i + PURGE_BATCH);
      const counts = await Promise.all(batch.map((id) =>
        this.purgeOne(this.address(id), false, 0, new Set(), false)));
      count += counts.reduce((x, y) => x + y, 0);
    }
    return { deletedInstanceCount: count, isComplete: timeoutMs === undefined ? null : complete };
  }

  // ---- dead letters

  /** Messages the hub dead-lettered (`DT_H_DEAD`), oldest first. */
  async listDeadLetters(query?: DeadLetterQuery): Promise<DeadLetter[]> {
    if (query?.instanceId !== undefined) validateInstanceId(query.instanceId);
    await this.ready();
    return listDeadLetters(this.res, query);
  }

  // ---- query

  async queryInstances(query: OrchestrationQuery, signal?: AbortSignal):
    Promise<OrchestrationQueryResult> {
    await this.ready();
    const pageSize = query.pageSize ?? 100;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10_000) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `pageSize must be an integer from 1 to 10000, got ${String(query.pageSize)}.`);
    }
    const after = decodeQueryToken(query.continuationToken);
    const from = query.createdTimeFrom?.getTime() ?? Number.NEGATIVE_INFINITY;
    const to = query.createdTimeTo?.getTime() ?? Number.POSITIVE_INFINITY;
    const found: { rec: InstanceRecord; token: string }[] = [];
    await this.store.scanLatest((rec, token) => {
      if (signal?.aborted) return false;
      const created = Date.parse(rec.createdTime);
      if (created < from || created >= to) return;
      if (query.runtimeStatus && !query.runtimeStatus.includes(rec.orchestrationStatus)) return;
      if (query.name !== undefined && rec.name !== query.name) return;
      if (query.instanceIdPrefix !== undefined &&
        !rec.orchestrationInstance.instanceId.startsWith(query.instanceIdPrefix)) return;
      found.push({ rec, token });
      if (found.length > pageSize) return false;
    }, after !== undefined ? { afterToken: after } : {});
    if (signal?.aborted) {
      throw new DurableTaskError(ErrorCode.ABORTED, 'The query was aborted.',
        { cause: signal.reason });
    }
    const page = found.slice(0, pageSize);
    const more = found.length > pageSize;
    const last = page[page.length - 1];
    const withPayloads = query.fetchInputsAndOutputs !== false;
    const states = await Promise.all(page.map(async ({ rec }) => {
      if (withPayloads) return this.toState(rec);
      const { input: _i, output: _o, ...rest } = rec;
      return this.toState(rest as InstanceRecord);
    }));
    return {
      orchestrationState: states,
      continuationToken: more && last ? encodeQueryToken(last.token) : null,
    };
  }
}

/** A record counts as the end of its execution when final or continued-as-new. */
function endedExecution(rec: InstanceRecord): InstanceRecord | null {
  const s = rec.orchestrationStatus;
  return isTerminalStatus(s) || s === 'ContinuedAsNew' ? rec : null;
}

