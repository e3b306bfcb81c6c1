import { nuid } from '@nats-io/transport-node';
import { WorkItemLockTable, type WorkItemLock } from '../../actors/work-item-lock.ts';
import { DurableTaskError, ErrorCode, isDurableTaskError } from '../core/errors.ts';
import { isLiveStatus } from '../core/orchestration-status.ts';
import { toStoredState } from '../core/orchestration-state.ts';
import { OrchestrationRuntimeState, buildOrchestrationState } from '../core/runtime-state.ts';
import type { HistoryEvent } from '../core/history-event.ts';
import type { AbandonOptions, WorkerCapabilities } from '../core/orchestration-service.ts';
import type { OrchestrationCompletion, OrchestrationWorkItem } from '../core/work-item.ts';
import type { Logger } from '../logging/logger.ts';
import {
  backgroundError, commitConflict, messageDiscarded, postCommitFailed, relayFailed, relayResent,
  startResent,
} from '../logging/nats-events.ts';
import { planBatch, type InstanceView } from './batch-builder.ts';
import { CommitLog } from './commit-log.ts';
import { HandoffQueue } from './handoff-queue.ts';
import type { HubResources } from './hub-resources.ts';
import { InstanceCache, type CachedInstance } from './instance-cache.ts';
import { InstanceStore } from './instance-store.ts';
import { LeaseManager, type LeaseHost } from './lease-manager.ts';
import { recreateFinishedRecord } from './pending-record.ts';
import { startMessageFromRecord } from './pending-starts.ts';
import { PoisonGuard } from './poison-guard.ts';
import { UnhandledWork } from './unhandled-work.ts';
import type { CommitTicket } from './outbox-relay.ts';
import { buildOutbox, sendOutbox, type OutboxSender } from './outbox.ts';
import { PrefetchBudget } from './prefetch-budget.ts';
import { requestMux } from './request-mux.ts';
import { encodeCommitRecord } from './commit-encoding.ts';
import {
  PartitionRuntime, type HeldMessage, type InstanceSlot, type PartitionHost,
} from './partition-runtime.ts';
import { encodeJson, type CommitBody, type InstanceRecord } from './wire.ts';

/** The backend state behind an orchestration work item's opaque `lockToken`. */
export interface OrchestrationLockToken {
  readonly slot: InstanceSlot;
  readonly epoch: number;
  readonly lock: WorkItemLock;
  readonly batch: HeldMessage[];
  /** Commit-log revision the work item was loaded at (the CAS of its checkpoint). */
  readonly revision: number;
  readonly newExecution: boolean;
  /** Execution loaded at lock time and the sequence of its first commit (null: none). */
  readonly executionId: string | null;
  readonly execStart: number | null;
  /** Set when the checkpoint lost the revision check: abandon without back-off. */
  aborted: boolean;
  /** The work item's own lock deadline (real time); renew extends it. */
  expiresAt: number;
}

const CACHE_CAPACITY = 20_000;
/** History and record loads running ahead of the lock loop, at most. */
const MAX_PRELOADS = 64;
const MAX_BACKOFF_MS = 5 * 60_000;
const DRAIN_WAIT_STEP_MS = 50;

/**
 * The orchestration side of the NATS backend: partition ownership, the ready
 * queue of instances fed by owned partitions, the history cache, and the
 * lock / renew / complete / abandon / release of orchestration work items.
 */
export class OrchestrationEngine implements LeaseHost, PartitionHost {
  readonly log: Logger;
  readonly commitLog: CommitLog;
  readonly store: InstanceStore;
  readonly prefetch: PrefetchBudget;
  private readonly ready = new HandoffQueue<InstanceSlot>();
  private readonly cache = new InstanceCache(CACHE_CAPACITY);
  private readonly partitions = new Map<number, PartitionRuntime>();
  private readonly lockTable = new WorkItemLockTable();
  private readonly leases: LeaseManager;
  private readonly poison: PoisonGuard;
  /** Instances abandoned here as not handled, for capability hand-offs (F16). */
  private readonly unhandled = new UnhandledWork();
  private readonly now: () => number;
  /** Work items not yet completed or given back, checked for lapsed locks. */
  private readonly held = new Set<OrchestrationLockToken>();
  private expiryTimer: NodeJS.Timeout | undefined;
  /** Loads running ahead of the lock loop, and slots waiting for one. */
  private preloading = 0;
  private preloadQueue: InstanceSlot[] = [];

  constructor(readonly res: HubResources, log: Logger) {
    this.log = log.child({ component: 'orchestrations' });
    this.commitLog = new CommitLog(res);
    this.store = new InstanceStore(res.instances, res.names, requestMux(res));
    this.prefetch = new PrefetchBudget(res.options.prefetchTotal);
    this.leases = new LeaseManager(res, this, log);
    this.poison = new PoisonGuard(res, this.log);
    const clock = res.options.clock;
    this.now = () => clock.now();
  }

  async start(): Promise<void> {
    const every = Math.max(100, Math.min(1_000, Math.floor(this.res.options.leaseMs / 8)));
    this.expiryTimer = setInterval(() => this.expireLapsed(), every);
    this.expiryTimer.unref();
    await this.leases.start();
  }

  /**
   * A work item whose holder stopped renewing loses its lock at `expiresAt`:
   * its batch goes back, intact and in order, and can be locked again; the
   * late holder's calls fail with LOCK_LOST.
   */
  private expireLapsed(): void {
    const now = Date.now();
    for (const token of this.held) {
      if (token.expiresAt <= now) this.expire(token);
    }
  }

  private expire(token: OrchestrationLockToken): void {
    this.held.delete(token);
    // A lapsed work item is a failed delivery of its messages (poison rule).
    if (token.lock.state === 'locked') this.poison.failed(token.batch);
    token.lock.tryApply('lose');
    this.unlock(token, false);
  }

  async stop(forced: boolean): Promise<void> {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.ready.wakeAll();
    await this.leases.stop(forced);
    await Promise.all([...this.partitions.keys()].map((p) => this.partitionLost(p)));
    this.ready.wakeAll();
  }

  ownedPartitions(): number[] {
    return this.leases.ownedPartitions();
  }

  /** What the worker registered: advertised to other workers for hand-offs. */
  setCapabilities(capabilities: WorkerCapabilities): void {
    this.leases.setCapabilities(capabilities);
  }

  unhandledNames(partition: number): ReadonlySet<string> {
    return this.unhandled.names(partition);
  }

  // ---- lease host

  startPartition(partition: number, epoch: number, waitMs: number): void {
    // Leases run on real time (the server's TTL does), whatever clock drives timers.
    const runtime = new PartitionRuntime(this, partition, epoch, Date.now);
    const old = this.partitions.get(partition);
    if (old) void old.stop(false);
    // Another owner may have committed meanwhile: cached histories of the partition are stale.
    this.cache.dropPartition(partition);
    this.unhandled.dropPartition(partition);
    this.partitions.set(partition, runtime);
    runtime.start(waitMs).catch((err) => {
      backgroundError(this.log, `start partition ${partition}`, err);
      void this.partitionLost(partition);
    });
  }

  leaseExtended(partition: number, usableUntil: number): void {
    const runtime = this.partitions.get(partition);
    if (runtime) runtime.usableUntil = usableUntil;
  }

  async partitionLost(partition: number): Promise<void> {
    const runtime = this.partitions.get(partition);
    if (!runtime) return;
    this.partitions.delete(partition);
    this.cache.dropPartition(partition);
    this.unhandled.dropPartition(partition);
    this.ready.retain((s) => s.partition !== runtime);
    this.preloadQueue = this.preloadQueue.filter((s) => s.partition !== runtime);
    await runtime.stop(false);
  }

  async drainPartition(partition: number, forced: boolean): Promise<void> {
    const runtime = this.partitions.get(partition);
    if (!runtime) return;
    runtime.draining = true;
    this.ready.retain((s) => s.partition !== runtime);
    this.preloadQueue = this.preloadQueue.filter((s) => s.partition !== runtime);
    // Bounded wait for in-flight work items, within the lease.
    const deadline = this.now() + (forced ? 0 : this.res.options.leaseMs / 2);
    while (runtime.lockedCount > 0 && this.now() < deadline) {
      await new Promise((r) => setTimeout(r, DRAIN_WAIT_STEP_MS));
    }
    this.partitions.delete(partition);
    this.cache.dropPartition(partition);
    this.unhandled.dropPartition(partition);
    await runtime.stop(true);
  }

  lockedCount(partition: number): number {
    return this.partitions.get(partition)?.lockedCount ?? 0;
  }

  // ---- partition host

  makeReady(slot: InstanceSlot): void {
    if (slot.queued || slot.locked || slot.held.length === 0) return;
    const wait = slot.notBefore - this.now();
    slot.queued = true;
    if (wait > 0) {
      setTimeout(() => {
        if (slot.partition.usable()) this.enqueue(slot);
        else slot.queued = false;
      }, wait).unref();
    } else {
      this.enqueue(slot);
    }
  }

  /**
   * Puts a slot on the ready queue once its history and record are loaded:
   * loads run here, ahead of the lock loop and a bounded number at a time,
   * so the loop hands out loaded slots and never waits on a read.
   */
  private enqueue(slot: InstanceSlot): void {
    const entry = this.cache.peek(slot.token);
    if (entry && (slot.recordFresh || !needsRecord(entry, slot))) {
      this.ready.put(slot);
      return;
    }
    if (this.preloading >= MAX_PRELOADS) {
      this.preloadQueue.push(slot);
      return;
    }
    this.preloading++;
    const arrivals = slot.arrivals;
    this.viewOf(slot).then(() => {
      // Fresh only if no message (maybe sent after a record change) came meanwhile.
      slot.recordFresh = slot.arrivals === arrivals;
    }, () => undefined).finally(() => {
      this.preloading--;
      // A failed load is retried (and reported) by the lock itself.
      if (slot.partition.usable() && !slot.locked) this.ready.put(slot);
      else slot.queued = false;
      // Bounded: each round starts one queued load or hands out one loaded slot.
      for (let i = 0; i < MAX_PRELOADS && this.preloading < MAX_PRELOADS; i++) {
        const next = this.preloadQueue.shift();
        if (!next) break;
        if (next.partition.usable()) this.enqueue(next);
        else next.queued = false;
      }
    });
  }

  private senderOf(body: CommitBody): OutboxSender {
    return { store: this.store, instanceId: body.instanceId };
  }

  async resend(partition: PartitionRuntime, seq: number, body: CommitBody): Promise<void> {
    const hook = this.res.options.faults.beforeRelay;
    if (hook?.({ instanceId: body.instanceId, executionId: body.executionId,
      commitSeq: seq }) === 'skip') return;
    try {
      await sendOutbox(this.res, body.outbox, this.now(), this.senderOf(body));
      await this.writeRecords(body, seq, undefined);
      relayResent(this.log, partition.partition, body.instanceId, seq, body.outbox.length);
    } catch (err) {
      // Takeover goes on; the send is retried in the background meanwhile.
      relayFailed(this.log, partition.partition, seq, err);
      const ticket = partition.relay.begin();
      partition.relay.committed(ticket, seq);
      partition.relay.retry(seq, async () => {
        await sendOutbox(this.res, body.outbox, this.now(), this.senderOf(body));
        await this.writeRecords(body, seq, undefined);
      });
    }
  }

  // ---- lock

  async lockNext(receiveTimeoutMs: number, signal?: AbortSignal):
    Promise<OrchestrationWorkItem | null> {
    const deadline = this.now() + receiveTimeoutMs;
    // Bounded by the deadline: each round takes one ready instance or times out.
    for (;;) {
      const left = deadline - this.now();
      const slot = await this.ready.take(Math.max(0, left), signal);
      if (!slot) return null;
      slot.queued = false;
      const item = await this.tryLock(slot);
      if (item) return item;
      if (signal?.aborted || this.now() >= deadline) return null;
    }
  }

  private async tryLock(slot: InstanceSlot): Promise<OrchestrationWorkItem | null> {
    const runtime = slot.partition;
    if (slot.locked || slot.held.length === 0 || !runtime.usable()) return null;
    if (slot.notBefore > this.now()) {
      this.makeReady(slot);
      return null;
    }
    slot.locked = true;
    let view: { entry: CachedInstance; view: InstanceView };
    try {
      view = await this.viewOf(slot);
    } catch (err) {
      slot.locked = false;
      slot.notBefore = this.now() + 1_000;
      this.makeReady(slot);
      throw isDurableTaskError(err) ? err : new DurableTaskError(ErrorCode.BACKEND_ERROR,
        `Loading instance '${slot.instanceId}' failed: ${(err as Error).message}`, { cause: err });
    }
    if (!runtime.usable()) {
      slot.locked = false;
      return null;
    }
    const { options } = this.res;
    const plan = planBatch(slot.held, view.view, {
      maxMessages: options.maxMessagesPerWorkItem, maxBytes: options.maxBytesPerWorkItem,
    });
    if (plan.drop.length > 0) {
      for (const d of plan.drop) {
        messageDiscarded(this.log, { instanceId: slot.instanceId, partition: runtime.partition,
          seq: d.item.seq, eventType: d.item.message.event.type,
          executionId: d.item.message.orchestrationInstance.executionId, reason: d.reason });
      }
      runtime.discard(plan.drop.map((d) => d.item));
    }
    slot.held = plan.keep;
    if (plan.waitingForStart) void this.resendStart(slot, view.entry);
    if (plan.batch.length === 0) {
      slot.locked = false;
      runtime.tidy(slot);
      return null;
    }
    slot.inFlight = plan.batch;
    const entry = view.entry;
    const first = plan.batch[0]?.message.event;
    if (plan.newExecution && first?.type === 'ExecutionStarted') {
      await recreateFinishedRecord(this.store, slot.token, entry, first, this.now());
    }
    const lockMs = this.res.options.leaseMs;
    const state = plan.newExecution ? new OrchestrationRuntimeState() : runtimeStateOf(entry);
    const token: OrchestrationLockToken = {
      slot, epoch: runtime.epoch,
      lock: this.lockTable.open(`the work item of '${slot.instanceId}'`),
      batch: plan.batch, revision: entry.revision, newExecution: plan.newExecution, aborted: false,
      executionId: entry.executionId, execStart: entry.execStart,
      expiresAt: Date.now() + lockMs,
    };
    slot.lockedBy = token;
    this.held.add(token);
    const payloads = this.res.payloads;
    const newMessages = plan.batch.some((m) => payloads.hasRefs(m.message.event))
      ? await Promise.all(plan.batch.map((m) => payloads.resolveMessage(m.message)))
      : plan.batch.map((m) => m.message);
    const item: OrchestrationWorkItem = {
      instanceId: slot.instanceId,
      newMessages,
      orchestrationRuntimeState: state,
      lockedUntil: new Date(Math.min(runtime.usableUntil, token.expiresAt)),
      isExtendedSession: false,
      lockToken: token,
    };
    // Past the delivery limit: dead-lettered, and the instance fails (design 4, 9.15).
    if (!(await this.settlePoisoned(item, token))) return item;
    await this.release(item);
    return null;
  }

  /** The cached instance, loading history and record on a miss (in parallel). */
  private async viewOf(slot: InstanceSlot): Promise<{ entry: CachedInstance; view: InstanceView }> {
    const p = slot.partition.partition;
    let entry = this.cache.get(slot.token);
    if (!entry) {
      slot.recordFresh = false;
      const [loaded, stored] = await Promise.all([
        this.commitLog.loadCurrent(p, slot.token),
        this.store.read(slot.token),
      ]);
      entry = {
        partition: p, revision: loaded.revision, executionId: loaded.executionId,
        execStart: loaded.execStart, events: loaded.events,
        customStatus: loaded.state?.customStatus, status: loaded.state?.orchestrationStatus ?? null,
        applied: new Set(loaded.applied),
        record: stored ? { value: stored.record, revision: stored.revision } : undefined,
      };
      this.cache.set(slot.token, entry);
    } else if (slot.recordFresh) {
      // Read ahead of the lock (no start arrived since): used once.
      slot.recordFresh = false;
    } else if (needsRecord(entry, slot)) {
      const stored = await this.store.read(slot.token);
      entry.record = stored ? { value: stored.record, revision: stored.revision } : undefined;
    }
    const rec = entry.record?.value;
    return {
      entry,
      view: {
        current: entry.executionId === null ? null : {
          executionId: entry.executionId,
          live: entry.status === 'Running' || entry.status === 'Suspended',
        },
        record: rec ? { executionId: rec.orchestrationInstance.executionId,
          status: rec.orchestrationStatus } : null,
        applied: entry.applied,
      },
    };
  }

  /**
   * Messages wait for an announced execution whose start has not arrived:
   * re-send the start from the Pending record (same deterministic id, so an
   * earlier send within the window is dropped), unless it is scheduled later.
   */
  // A Pending record with no message at all (its creator died before sending the start) is
  // repaired by the partition owner's scan (pending-starts.ts).
  private async resendStart(slot: InstanceSlot, entry: CachedInstance): Promise<void> {
    const rec = entry.record?.value;
    if (!rec || rec.orchestrationStatus !== 'Pending') return;
    if (rec.scheduledStartTime && Date.parse(rec.scheduledStartTime) > this.now()) return;
    const { instanceId, executionId } = rec.orchestrationInstance;
    const start = startMessageFromRecord(rec);
    try {
      await this.res.js.publish(slot.partition === undefined ? '' :
        this.res.names.orchSubject(slot.partition.partition, slot.token), encodeJson(start),
      { msgID: this.res.names.startMessageId(slot.token, executionId) });
      startResent(this.log, instanceId, executionId);
    } catch (err) {
      backgroundError(this.log, 'resend start', err);
    }
  }

  // ---- renew / complete / abandon / release

  private tokenOf(item: OrchestrationWorkItem): OrchestrationLockToken {
    const token = item.lockToken as OrchestrationLockToken | undefined;
    if (!token || typeof token !== 'object' || !('slot' in token)) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `The work item of '${item.instanceId}' was not issued by this NATS backend.`);
    }
    return token;
  }

  private leaseHeld(token: OrchestrationLockToken): boolean {
    const runtime = token.slot.partition;
    if (token.lock.state === 'locked' && token.expiresAt <= Date.now()) {
      this.expire(token);
      return false;
    }
    return this.partitions.get(runtime.partition) === runtime && runtime.active &&
      this.leases.usable(runtime.partition, token.epoch, Date.now()) &&
      runtime.usableUntil > Date.now();
  }

  private lostError(item: OrchestrationWorkItem, token: OrchestrationLockToken): DurableTaskError {
    const lapsed = token.lock.state === 'lost' && token.expiresAt <= Date.now();
    token.lock.tryApply('lose');
    this.held.delete(token);
    return new DurableTaskError(ErrorCode.LOCK_LOST, lapsed
      ? `The lock of instance '${item.instanceId}' lapsed: it was not renewed in time.`
      : `The lock of instance '${item.instanceId}' is lost: the partition lease ` +
        `${token.slot.partition.partition} lapsed or was taken by another worker.`);
  }

  /** Renew = confirm the partition lease (renewing it now), then in-progress ack the batch. */
  async renew(item: OrchestrationWorkItem): Promise<void> {
    const token = this.tokenOf(item);
    token.lock.check('renew');
    if (!this.leaseHeld(token)) throw this.lostError(item, token);
    const runtime = token.slot.partition;
    if (!(await this.leases.confirm(runtime.partition, token.epoch)) || !this.leaseHeld(token)) {
      throw this.lostError(item, token);
    }
    token.lock.check('renew');
    token.slot.partition.touch(token.batch);
    token.lock.apply('renew');
    token.expiresAt = Date.now() + this.res.options.leaseMs;
    item.lockedUntil = new Date(Math.min(token.slot.partition.usableUntil, token.expiresAt));
  }

  async complete(item: OrchestrationWorkItem, completion: OrchestrationCompletion): Promise<void> {
    const token = this.tokenOf(item);
    token.lock.check('complete');
    if (!this.leaseHeld(token)) throw this.lostError(item, token);
    // While the checkpoint runs its lock cannot lapse; a failure ends in abandon or release.
    this.held.delete(token);
    const { slot } = token;
    const runtime = slot.partition;

    if (completion.orchestrationState === null) {
      // Discard case: nothing is persisted; the batch is consumed.
      token.lock.apply('complete');
      this.held.delete(token);
      runtime.ackConsumed(token.batch);
      const entry = this.cache.get(slot.token);
      if (entry) entry.applied = new Set(token.batch.map((m) => m.seq));
      slot.inFlight = [];
      return;
    }

    const entry = this.cache.get(slot.token);
    const built = await this.buildCommit(item, token, completion);
    const attemptId = `c${nuid.next()}`;

    const inFlight = this.res.options.faults.beforeCommitPublish;
    if (inFlight) await inFlight({ instanceId: item.instanceId });
    let seq: number;
    const ticket = runtime.relay.begin();
    try {
      seq = await this.commitLog.publish(runtime.partition, slot.token, built.body,
        token.revision, attemptId);
    } catch (err) {
      this.cache.delete(slot.token);
      if (isDurableTaskError(err, ErrorCode.SESSION_ABORTED)) {
        runtime.relay.abort(ticket);
        token.aborted = true;
        commitConflict(this.log, item.instanceId, token.revision);
      } else {
        // The outcome is unknown (no reply): the commit may have landed. The mark stays below
        // it until the log says whether it did; if it did, its outbox is sent from here.
        this.settleUnknownCommit(runtime, slot.token, ticket, attemptId, built.body);
      }
      throw err;
    }
    runtime.relay.committed(ticket, seq);
    token.lock.apply('complete');
    this.held.delete(token);
    this.unhandled.done(runtime.partition, slot.token);
    this.afterCommit(slot, entry, built.body, seq, completion,
      completion.newRuntimeState === item.orchestrationRuntimeState);

    const hook = this.res.options.faults.afterCommit;
    if (hook?.({ instanceId: item.instanceId, executionId: built.body.executionId,
      commitSeq: seq }) === 'skip') {
      // As if this process died right after its commit: the next owner's relay does the rest.
      slot.inFlight = [];
      return;
    }

    // Acks, outbox and record write go out in this turn (one socket write).
    runtime.ackConsumed(token.batch);
    const body = built.body;
    const steps = await Promise.allSettled([
      sendOutbox(this.res, body.outbox, this.now(), this.senderOf(body)),
      this.writeRecords(body, seq, this.cache.get(slot.token)),
    ]);
    const failed = steps.findIndex((s) => s.status === 'rejected');
    if (failed < 0) {
      runtime.relay.sent(seq);
    } else {
      postCommitFailed(this.log, item.instanceId, ['outbox', 'record'][failed] as string,
        (steps[failed] as PromiseRejectedResult).reason);
      runtime.relay.retry(seq, async () => {
        await sendOutbox(this.res, body.outbox, this.now(), this.senderOf(body));
        await this.writeRecords(body, seq, undefined);
      });
    }
    slot.inFlight = [];
  }

  /**
   * Looks in the instance's commit log for a commit whose publish got no
   * reply (attempt id `attemptId`, above the ticket's floor): found, its
   * outbox and records are sent and the mark may pass it; absent, the ticket
   * is dropped. Retried later while the log cannot be read (bounded); the
   * ticket holds the mark meanwhile, so a takeover resends it in any case.
   */
  private settleUnknownCommit(runtime: PartitionRuntime, token: string, ticket: CommitTicket,
    attemptId: string, body: CommitBody): void {
    runtime.relay.schedule(async () => {
      const found = await this.commitLog.findAttempt(runtime.partition, token, ticket.floor + 1,
        attemptId);
      if (found === null) {
        runtime.relay.abort(ticket);
        return;
      }
      runtime.relay.committed(ticket, found);
      await sendOutbox(this.res, body.outbox, this.now(), this.senderOf(body));
      await this.writeRecords(body, found, undefined);
      runtime.relay.sent(found);
    });
  }

  private async buildCommit(
    item: OrchestrationWorkItem,
    token: OrchestrationLockToken,
    completion: OrchestrationCompletion,
  ): Promise<{ body: CommitBody }> {
    const current = completion.newRuntimeState;
    const started = current.executionStartedEvent;
    if (!started || !completion.orchestrationState) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `The checkpoint of '${item.instanceId}' has no ExecutionStarted event.`);
    }
    const executionId = started.orchestrationInstance.executionId;
    const old = item.orchestrationRuntimeState;
    const oldExec = old.orchestrationInstance?.executionId;
    const continued = old !== current && oldExec !== undefined && oldExec !== executionId;
    // From the lock token, not the cache: the cache entry may be evicted meanwhile.
    const first = continued || token.newExecution || token.execStart === null ||
      token.executionId !== executionId;
    const payloads = this.res.payloads;
    const slot = token.slot;
    const outbox = buildOutbox(this.res.names, {
      instanceId: item.instanceId, token: slot.token, partition: slot.partition.partition,
      executionId, revision: token.revision,
    }, completion, this.now());
    // Payloads over the limit are rare: look before making a promise per message and event.
    const big = (o: object): boolean => payloads.mayNeedExternalizing(o);
    const externalOutbox = outbox.some((o) => big(o.msg.event))
      ? await Promise.all(outbox.map(async (o) =>
        ({ ...o, msg: await payloads.externalizeMessage(o.msg) })))
      : outbox;
    const events = current.newEvents.some(big)
      ? await Promise.all(current.newEvents.map((e) => payloads.externalize(e, slot.token)))
      : current.newEvents.slice();
    const stored = toStoredState(completion.orchestrationState);
    const state = big(stored) ? await payloads.externalize(stored) : stored;
    const body: CommitBody = {
      v: 1,
      instanceId: item.instanceId,
      executionId,
      ...(first ? {} : { execStart: token.execStart as number }),
      events,
      state,
      ...(continued ? { prev: {
        executionId: oldExec as string,
        events: await Promise.all(old.newEvents.map((e) =>
          payloads.externalize(e, slot.token))),
        state: await payloads.externalize(toStoredState(buildOrchestrationState(old, this.now()))),
      } } : {}),
      outbox: externalOutbox,
      applied: token.batch.map((m) => m.seq),
    };
    return { body };
  }

  /**
   * Updates the cached instance after a commit. `sameState`: the completion's
   * runtime state is the one handed out with the work item (over the cached
   * events), so its events and fold can be kept as they are.
   */
  private afterCommit(slot: InstanceSlot, entry: CachedInstance | undefined, body: CommitBody,
    seq: number, completion: OrchestrationCompletion, sameState: boolean): void {
    const first = body.execStart === undefined;
    if (!entry && !first) {
      // The history is not cached (evicted): the next lock reloads it from the log.
      return;
    }
    const next: CachedInstance = entry ?? {
      partition: slot.partition.partition, revision: 0, executionId: null, execStart: null,
      events: [], customStatus: undefined, status: null, applied: new Set(), record: undefined,
    };
    next.revision = seq;
    next.executionId = body.executionId;
    next.execStart = first ? seq : next.execStart;
    // The cache keeps the resolved events (the commit may hold payload references). Cached
    // arrays are shared with runtime states, so they are replaced, never grown in place.
    const state = completion.newRuntimeState;
    const resolved = state.newEvents;
    if (first) {
      next.events = [...resolved];
      next.completions = completionIds(resolved, new Set());
      next.fold = state.pastEvents.length === 0 ? state.foldOf() : undefined;
    } else if (sameState && next.fold && next.completions) {
      next.events = state.events;
      completionIds(resolved, next.completions);
      next.fold = state.foldOf();
    } else {
      next.events = next.events.concat(resolved);
      next.fold = undefined;
      next.completions = undefined;
    }
    next.customStatus = completion.orchestrationState?.customStatus;
    next.status = body.state.orchestrationStatus;
    next.applied = new Set(body.applied);
    this.cache.set(slot.token, next);
  }

  /**
   * Writes the records a commit implies: the closed execution's record (on
   * continue-as-new) before the latest record, each only over older ones. An
   * execution's own record is written only when it stops being the latest
   * (here on continue-as-new, in the client on a replacing create); until
   * then reads of it use the latest record.
   */
  async writeRecords(body: CommitBody, seq: number, entry: CachedInstance | undefined):
    Promise<void> {
    const token = tokenOfBody(body);
    const record: InstanceRecord = { ...body.state, commitSeq: seq };
    if (body.prev) {
      await this.store.writeExecution(token, { ...body.prev.state, commitSeq: seq });
    }
    if (record.orchestrationStatus === 'ContinuedAsNew') {
      await this.store.writeExecution(token, record);
    }
    const known = entry?.record?.value;
    if (!body.prev && known && sameVisibleState(known, record)) {
      // Nothing a reader sees changed (only lastUpdatedTime and the commit): no write.
      return;
    }
    const revision = await this.store.writeLatest(token, record, {
      data: encodeCommitRecord(body, seq),
      knownRevision: entry?.record?.revision, knownRecord: entry?.record?.value,
      previousExecutionId: body.prev?.executionId,
    });
    if (revision === undefined) {
      // Not (or no longer) the latest execution, or an older write: keep its own record.
      await this.store.writeExecution(token, record);
    }
    if (entry) entry.record = revision === undefined ? undefined : { value: record, revision };
  }

  /**
   * Gives the batch back with a growing delay. A failure counts toward the
   * poison limit; work not handled here (unregistered orchestration) does not,
   * and marks the instance for a capability hand-off.
   */
  async abandon(item: OrchestrationWorkItem, options?: AbandonOptions): Promise<void> {
    const token = this.tokenOf(item);
    if (token.lock.state === 'abandoned' || token.lock.state === 'released') return;
    if (token.lock.state === 'lost' || !this.leaseHeld(token)) {
      this.unlock(token, false);
      throw this.lostError(item, token);
    }
    if (options?.reason === 'not-handled') {
      this.unhandled.note(token.slot.partition.partition, token.slot.token, item);
    } else if (!token.aborted) {
      this.poison.failed(token.batch);
      // The last failure the limit allows: settled now, as poison.
      if (await this.settlePoisoned(item, token)) return;
    }
    token.lock.apply('abandon');
    this.held.delete(token);
    this.unlock(token, !token.aborted);
  }

  /**
   * Settles a work item whose batch reached the delivery limit: dead-letters
   * the messages and commits the failure of the instance. False (nothing
   * done) when the batch is below the limit.
   */
  private async settlePoisoned(item: OrchestrationWorkItem, token: OrchestrationLockToken):
    Promise<boolean> {
    const poisoned = this.poison.poisoned(token.batch);
    if (poisoned.length === 0) return false;
    try {
      await this.poison.settle(item, poisoned, token.slot.partition.partition, token.slot.token,
        (completion) => this.complete(item, completion));
    } catch (err) {
      // Given back with a growing delay; the next lock tries again.
      backgroundError(this.log, 'dead-letter orchestration messages', err);
      if (token.lock.tryApply('abandon')) {
        this.held.delete(token);
        this.unlock(token, true);
      }
    }
    return true;
  }

  async release(item: OrchestrationWorkItem): Promise<void> {
    const token = this.tokenOf(item);
    if (token.lock.state === 'locked') {
      // Released without a checkpoint: the batch goes back, intact and in order.
      token.lock.apply('release');
      this.held.delete(token);
      this.unlock(token, false);
      return;
    }
    token.lock.tryApply('release');
    this.held.delete(token);
    this.unlock(token, false);
  }

  /** Returns a batch that was not consumed to the front of the instance's queue. */
  private unlock(token: OrchestrationLockToken, backOff: boolean): void {
    const { slot } = token;
    if (!slot.locked || slot.lockedBy !== token) return;
    slot.lockedBy = undefined;
    if (slot.inFlight.length > 0) {
      slot.held = [...slot.inFlight, ...slot.held].sort((a, b) => a.seq - b.seq);
      slot.inFlight = [];
      if (backOff) {
        slot.failures++;
        const delay = slot.failures <= 1 ? 0
          : Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** (slot.failures - 2));
        slot.notBefore = this.now() + delay;
      }
    } else {
      slot.failures = 0;
    }
    slot.locked = false;
    if (slot.partition.usable()) this.makeReady(slot);
    slot.partition.tidy(slot);
  }

  /** Drops the cached history of an instance (after a purge). */
  forget(token: string): void {
    this.cache.delete(token);
  }
}

/**
 * True when a non-final record of the same execution shows what the stored
 * one shows: same status, custom status, output and failure. Such a write is
 * skipped; the record then keeps an older lastUpdatedTime and commit.
 */
function sameVisibleState(stored: InstanceRecord, next: InstanceRecord): boolean {
  return stored.orchestrationInstance.executionId === next.orchestrationInstance.executionId &&
    stored.orchestrationStatus === next.orchestrationStatus &&
    (next.orchestrationStatus === 'Running' || next.orchestrationStatus === 'Suspended') &&
    stored.customStatus === next.customStatus && stored.output === next.output &&
    stored.commitSeq !== 0;
}

/** The lock must read the instance record (it decides about starts and finished instances). */
function needsRecord(e: CachedInstance, slot: InstanceSlot): boolean {
  return e.status === null || !isLiveStatus(e.status) ||
    slot.held.some((m) => m.message.event.type === 'ExecutionStarted');
}

/** A runtime state over the cached history: resumed from its fold, or folded once. */
function runtimeStateOf(entry: CachedInstance): OrchestrationRuntimeState {
  if (entry.fold && entry.completions) {
    return OrchestrationRuntimeState.resume(entry.events, entry.fold, entry.completions,
      entry.customStatus);
  }
  const state = new OrchestrationRuntimeState(entry.events, entry.customStatus);
  entry.fold = state.foldOf();
  entry.completions = completionIds(entry.events, new Set());
  return state;
}

/** Adds the ids of TaskCompleted events (ids >= 0) to `into`, as runtime states dedupe them. */
function completionIds(events: readonly HistoryEvent[], into: Set<number>): Set<number> {
  for (const e of events) if (e.type === 'TaskCompleted' && e.eventId >= 0) into.add(e.eventId);
  return into;
}

function tokenOfBody(body: CommitBody): string {
  return Buffer.from(body.instanceId, 'utf8').toString('base64url');
}

