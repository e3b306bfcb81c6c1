import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import {
  leaseUsable, partitionLeaseMachine, type PartitionLeaseEvent, type PartitionLeaseStateName,
} from '../../actors/partition-lease.machine.ts';
import type { WorkerCapabilities } from '../core/orchestration-service.ts';
import type { Logger } from '../logging/logger.ts';
import {
  backgroundError, leaseRenewFailed, partitionAcquired, partitionHandedOff, partitionLost,
  partitionReleased,
} from '../logging/nats-events.ts';
import type { HubResources } from './hub-resources.ts';
import { isWrongLastSequence } from './nats-errors.ts';
import { decodeJson, encodeJson } from './wire.ts';

type LeaseSnapshot = SnapshotFrom<typeof partitionLeaseMachine>;

/**
 * Value of a lease key. `released` marks a clean hand-back: the next owner
 * need not wait. `to` reserves a released partition for one worker for
 * RESERVE_LEASES lease lengths (a hand-off to a worker that runs its work).
 */
interface LeaseValue {
  readonly worker: string;
  readonly at: number;
  readonly released?: boolean;
  readonly to?: string;
}

/** A worker's heartbeat in `DT_H_WORKERS`: when, and which orchestrations it registered. */
interface WorkerBeat {
  readonly at: number;
  readonly orchestrations?: readonly string[];
}

/** How long (in lease lengths) a handed-off partition waits for the worker it was handed to. */
const RESERVE_LEASES = 2;
/** How long (in lease lengths) a partition received by hand-off is kept out of balancing. */
const PIN_LEASES = 6;

/** What the lease manager asks of the engine for each partition. */
export interface LeaseHost {
  /** Start work on a newly owned partition, waiting `waitMs` first. */
  startPartition(partition: number, epoch: number, waitMs: number): void;
  /** Lease deadline (less the margin) changed. */
  leaseExtended(partition: number, usableUntil: number): void;
  /** Stop work at once: the lease is gone. */
  partitionLost(partition: number): Promise<void>;
  /** Finish in-flight work, return held messages; resolves when done. */
  drainPartition(partition: number, forced: boolean): Promise<void>;
  /** Work items in flight on the partition (to pick which to hand back). */
  lockedCount(partition: number): number;
  /**
   * Orchestration names that instances of the partition wait for because this
   * worker abandoned them as not handled (unregistered here).
   */
  unhandledNames?(partition: number): ReadonlySet<string>;
}

class PartitionLease {
  snapshot: LeaseSnapshot;
  epoch = 0;
  busy = false;
  renewedAt = 0;
  /** Not handed back for balancing before this time (received by a hand-off). */
  pinnedUntil = 0;
  renewing: Promise<void> | undefined;

  constructor(partition: number, marginMs: number) {
    this.snapshot = initialTransition(partitionLeaseMachine, { partition, marginMs })[0];
  }

  get state(): PartitionLeaseStateName {
    return this.snapshot.value as PartitionLeaseStateName;
  }

  send(event: PartitionLeaseEvent): boolean {
    if (!this.snapshot.can(event)) return false;
    this.snapshot = transition(partitionLeaseMachine, this.snapshot, event)[0];
    return true;
  }
}

/**
 * Owns partitions through leases in `DT_H_LEASES` (create to take a free key,
 * update by revision to renew, bucket TTL = lease length) and balances them
 * over the live workers found in `DT_H_WORKERS` (heartbeats): each worker aims
 * for ceil(partitions / workers) and hands back extras after draining them.
 * Each partition's ownership is a partition-lease machine.
 *
 * Workers advertise the orchestrations they registered in their heartbeat.
 * When this worker abandoned instances of an owned partition as not handled
 * (their orchestration is not registered here) and a live worker advertises
 * such a name, the partition is drained and released reserved for that
 * worker, which takes it at once (it watches the lease keys) and keeps it
 * out of balancing for a while (field report F16).
 */
export class LeaseManager {
  private readonly leases: PartitionLease[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private running = false;
  private readonly log: Logger;
  private capabilities: WorkerCapabilities | undefined;
  private leaseWatch: { stop(): void } | undefined;

  constructor(private readonly res: HubResources, private readonly host: LeaseHost, log: Logger) {
    this.log = log.child({ component: 'leases', worker: res.options.workerId });
    for (let p = 0; p < res.names.partitions; p++) {
      this.leases.push(new PartitionLease(p, res.options.leaseMarginMs));
    }
  }

  ownedPartitions(): number[] {
    return this.leases.flatMap((l, p) => (l.state === 'owned' ? [p] : []));
  }

  /** Lease validity check for a work item's partition and epoch. */
  usable(partition: number, epoch: number, now: number): boolean {
    const lease = this.leases[partition];
    if (!lease || lease.epoch !== epoch) return false;
    return leaseUsable(lease.state, lease.snapshot.context, now);
  }

  /** What this worker registered; advertised in its heartbeat. */
  setCapabilities(capabilities: WorkerCapabilities): void {
    this.capabilities = capabilities;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.watchHandOffs();
    await this.tick();
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    const base = this.res.options.renewIntervalMs;
    const jitter = Math.floor(Math.random() * Math.min(250, base / 5));
    this.timer = setTimeout(() => {
      this.ticking = this.tick().catch((err) => backgroundError(this.log, 'lease tick', err))
        .finally(() => this.schedule());
    }, base - jitter);
  }

  private value(released = false, to?: string): Uint8Array {
    const v: LeaseValue = { worker: this.res.options.workerId, at: Date.now(),
      ...(released ? { released: true } : {}), ...(to !== undefined ? { to } : {}) };
    return encodeJson(v);
  }

  private heartbeat(): Uint8Array {
    const beat: WorkerBeat = { at: Date.now(),
      ...(this.capabilities ? { orchestrations: this.capabilities.orchestrations } : {}) };
    return encodeJson(beat);
  }

  /** One round: heartbeat, renew, check deadlines, balance. */
  private async tick(): Promise<void> {
    const { options } = this.res;
    if (options.faults.pauseLeases?.()) return;
    await this.res.workers.put(options.workerId, this.heartbeat())
      .catch((err) => backgroundError(this.log, 'worker heartbeat', err));
    await this.renewAll();
    const now = Date.now();
    for (let p = 0; p < this.leases.length; p++) {
      const lease = this.leases[p] as PartitionLease;
      if (lease.send({ type: 'lease.tick', now })) await this.lose(p, 'deadline passed');
    }
    if (!this.running) return;
    const workers = await this.readWorkers();
    this.handOffUnhandled(workers);
    const target = Math.ceil(this.leases.length / Math.max(1, workers.size));
    const held = this.leases.filter((l) => l.state === 'owned' || l.state === 'acquiring').length;
    if (held < target) await this.acquireUpTo(target - held);
    else if (held > target) this.handBack(held - target);
  }

  /** Live workers (their heartbeat keys have not expired) and what they advertise. */
  private async readWorkers(): Promise<Map<string, WorkerBeat>> {
    const iter = await this.res.workers.keys();
    const ids: string[] = [];
    for await (const k of iter) ids.push(k);
    const beats = await Promise.all(ids.map((id) => this.res.workers.get(id).catch(() => null)));
    const out = new Map<string, WorkerBeat>();
    ids.forEach((id, i) => {
      const e = beats[i];
      let beat: WorkerBeat = { at: 0 };
      if (e && e.operation === 'PUT' && e.length > 0) {
        try {
          beat = decodeJson<WorkerBeat>(e.value, 'worker heartbeat');
        } catch {
          // An unreadable heartbeat still counts as a live worker.
        }
      }
      out.set(id, beat);
    });
    return out;
  }

  /**
   * Hands each owned partition whose instances wait for orchestrations this
   * worker lacks to the live worker advertising most of those names.
   */
  private handOffUnhandled(workers: ReadonlyMap<string, WorkerBeat>): void {
    const mine = this.capabilities;
    if (!mine || !this.host.unhandledNames) return;
    const me = this.res.options.workerId;
    const own = new Set(mine.orchestrations);
    for (let p = 0; p < this.leases.length; p++) {
      if (this.leases[p]?.state !== 'owned') continue;
      const wanted = [...this.host.unhandledNames(p)].filter((n) => !own.has(n));
      if (wanted.length === 0) continue;
      let best: string | undefined;
      let bestCount = 0;
      for (const [id, beat] of [...workers].sort(([a], [b]) => a.localeCompare(b))) {
        if (id === me || !beat.orchestrations) continue;
        const has = new Set(beat.orchestrations);
        const count = wanted.filter((n) => has.has(n)).length;
        if (count > bestCount) {
          best = id;
          bestCount = count;
        }
      }
      if (best === undefined) continue;
      partitionHandedOff(this.log, p, best, wanted);
      void this.drain(p, false, best);
    }
  }

  /** Takes a partition released for this worker as soon as the release shows up. */
  private async watchHandOffs(): Promise<void> {
    const me = this.res.options.workerId;
    const iter = await this.res.leases.watch({ include: 'updates' });
    this.leaseWatch = iter;
    void (async () => {
      for await (const e of iter) {
        if (!this.running) break;
        if (e.operation !== 'PUT' || e.length === 0) continue;
        let v: LeaseValue;
        try {
          v = decodeJson<LeaseValue>(e.value, 'lease');
        } catch {
          continue;
        }
        const p = this.leases.findIndex((_l, i) => this.res.names.leaseKey(i) === e.key);
        if (!v.released || v.to !== me || p < 0) continue;
        await this.tryAcquire(p).catch((err) => backgroundError(this.log, 'hand-off', err));
      }
    })().catch((err) => {
      if (this.running) backgroundError(this.log, 'lease watch', err);
    });
  }

  private async renewAll(): Promise<void> {
    await Promise.all(this.leases.map((_lease, p) => this.renewOne(p)));
  }

  /** Renews one lease now (concurrent calls share one KV update). */
  private renewOne(p: number): Promise<void> {
    const lease = this.leases[p] as PartitionLease;
    if (lease.state !== 'owned' && lease.state !== 'draining') return Promise.resolve();
    lease.renewing ??= this.renewKey(p, lease).finally(() => { lease.renewing = undefined; });
    return lease.renewing;
  }

  private async renewKey(p: number, lease: PartitionLease): Promise<void> {
    const key = this.res.names.leaseKey(p);
    const rev = lease.snapshot.context.revision;
    try {
      const next = await this.res.leases.update(key, this.value(), rev);
      const until = Date.now() + this.res.options.leaseMs;
      if (lease.send({ type: 'lease.renewed', revision: next, until })) {
        lease.renewedAt = Date.now();
        this.host.leaseExtended(p, until - this.res.options.leaseMarginMs);
      }
    } catch (err) {
      leaseRenewFailed(this.log, p, err);
      if (isWrongLastSequence(err)) {
        if (lease.send({ type: 'lease.lost', reason: 'the lease key was taken' })) {
          await this.lose(p, 'the lease key was taken', true);
        }
      }
      // Other failures: keep trying until the deadline check drops the lease.
    }
  }

  /**
   * Confirms a work item's lease: renews it at once (concurrent confirmations
   * share one update) and says whether it is still held under `epoch`.
   */
  async confirm(partition: number, epoch: number): Promise<boolean> {
    const lease = this.leases[partition];
    if (!lease || lease.epoch !== epoch) return false;
    await this.renewOne(partition);
    return this.usable(partition, epoch, Date.now());
  }

  private async lose(p: number, reason: string, alreadyLost = false): Promise<void> {
    const lease = this.leases[p] as PartitionLease;
    if (!alreadyLost && lease.state !== 'lost') return;
    partitionLost(this.log, p, reason);
    await this.host.partitionLost(p)
      .catch((err) => backgroundError(this.log, 'stop partition', err));
    lease.send({ type: 'lease.reset' });
  }

  private async acquireUpTo(count: number): Promise<void> {
    const free = this.leases.map((_l, p) => p).filter((p) => this.leases[p]?.state === 'unowned');
    shuffle(free);
    let got = 0;
    for (const p of free) {
      if (got >= count || !this.running) return;
      if (await this.tryAcquire(p)) got++;
    }
  }

  private async tryAcquire(p: number): Promise<boolean> {
    const lease = this.leases[p] as PartitionLease;
    if (!lease.send({ type: 'lease.acquire' })) return false;
    const key = this.res.names.leaseKey(p);
    try {
      const entry = await this.res.leases.get(key);
      const current = entry && entry.operation === 'PUT' && entry.length > 0
        ? decodeJson<LeaseValue>(entry.value, 'lease') : undefined;
      if (current && !current.released) {
        lease.send({ type: 'lease.denied', reason: `held by ${current.worker}` });
        return false;
      }
      const me = this.res.options.workerId;
      const reserveMs = RESERVE_LEASES * this.res.options.leaseMs;
      if (current?.to !== undefined && current.to !== me && Date.now() - current.at < reserveMs) {
        lease.send({ type: 'lease.denied', reason: `handed to ${current.to}` });
        return false;
      }
      const revision = entry && current
        ? await this.res.leases.update(key, this.value(), entry.revision)
        : await this.res.leases.create(key, this.value());
      const until = Date.now() + this.res.options.leaseMs;
      lease.send({ type: 'lease.granted', revision, until });
      lease.renewedAt = Date.now();
      lease.epoch++;
      if (current?.to === me) {
        lease.pinnedUntil = Date.now() + PIN_LEASES * this.res.options.leaseMs;
      }
      const clean = current?.released === true;
      const waitMs = clean ? 0 : await this.takeoverWait(p);
      partitionAcquired(this.log, p, waitMs);
      this.host.startPartition(p, lease.epoch, waitMs);
      this.host.leaseExtended(p, until - this.res.options.leaseMarginMs);
      return true;
    } catch (err) {
      if (!isWrongLastSequence(err)) backgroundError(this.log, 'lease acquire', err);
      lease.send({ type: 'lease.denied', reason: 'another worker took it first' });
      return false;
    }
  }

  /**
   * A lease that lapsed (its owner died) may leave delivered, unacked
   * messages; they come back after the ack wait, so the new owner waits that
   * long before it pulls to keep per-instance order.
   */
  private async takeoverWait(p: number): Promise<number> {
    const { names, jsm, options } = this.res;
    const orch = await jsm.consumers.info(names.orchStream, names.orchConsumer(p));
    return orch.num_ack_pending > 0 ? options.leaseMs : 0;
  }

  /** Hands back `count` owned partitions, least busy first; none received by a recent hand-off. */
  private handBack(count: number): void {
    const now = Date.now();
    const owned = this.leases.map((_l, p) => p).filter((p) => this.leases[p]?.state === 'owned' &&
      (this.leases[p]?.pinnedUntil ?? 0) <= now);
    owned.sort((a, b) => this.host.lockedCount(a) - this.host.lockedCount(b));
    for (const p of owned.slice(0, count)) void this.drain(p, false);
  }

  /** Drains and releases a partition; `to` reserves it for that worker. */
  private async drain(p: number, forced: boolean, to?: string): Promise<void> {
    const lease = this.leases[p] as PartitionLease;
    if (lease.busy || !lease.send({ type: 'lease.drain' })) return;
    lease.busy = true;
    try {
      await this.host.drainPartition(p, forced);
      if (lease.state !== 'draining') return;
      await this.res.leases.update(this.res.names.leaseKey(p), this.value(true, to),
        lease.snapshot.context.revision).catch(() => undefined);
      lease.send({ type: 'lease.released' });
      partitionReleased(this.log, p);
    } finally {
      lease.busy = false;
    }
  }

  /** Stops renewing: hands every partition back (drained, or at once when forced). */
  async stop(forced: boolean): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.leaseWatch?.stop();
    await this.ticking?.catch(() => undefined);
    const all = this.leases.map((_l, p) => p)
      .filter((p) => this.leases[p]?.state === 'owned' || this.leases[p]?.state === 'draining');
    await Promise.all(all.map((p) => this.leases[p]?.state === 'owned'
      ? this.drain(p, forced) : this.host.drainPartition(p, true)));
    // Releases drained partitions whose drain started before stop.
    await this.res.workers.delete(this.res.options.workerId).catch(() => undefined);
  }
}

function shuffle<T>(a: T[]): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
}
