import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../logging/logger.ts';
import { backgroundError, messageDiscarded } from '../logging/nats-events.ts';
import type { TaskMessage } from '../core/task-message.ts';
import type { BatchCandidate } from './batch-builder.ts';
import type { HubResources } from './hub-resources.ts';
import type { CommitLog } from './commit-log.ts';
import { AckHandle } from './ack-handle.ts';
import { OutboxRelay } from './outbox-relay.ts';
import type { PrefetchBudget } from './prefetch-budget.ts';
import { requestMux } from './request-mux.ts';
import { TimerIndex } from './timer-index.ts';
import { decodeTaskMessage, type CommitBody } from './wire.ts';

/** One orchestration message held by the owner, fetched but not yet acked. */
export class HeldMessage implements BatchCandidate {
  constructor(
    /** How to settle it; the delivered message itself is not kept (see ack-handle.ts). */
    public js: AckHandle,
    readonly seq: number,
    readonly message: TaskMessage,
    readonly bytes: number,
    public touchedAt: number,
  ) {}
}

/** The held messages and lock state of one instance in an owned partition. */
export class InstanceSlot {
  /** Messages waiting for the next work item, in stream order. */
  held: HeldMessage[] = [];
  /** Messages of the work item that holds the instance. */
  inFlight: HeldMessage[] = [];
  locked = false;
  /** The work item holding the instance (its lock token), when locked. */
  lockedBy: unknown = undefined;
  queued = false;
  /** Earliest time the instance may be handed out again (abandon back-off). */
  notBefore = 0;
  failures = 0;
  /**
   * The cached record was read ahead of the lock, after every message held
   * so far arrived; the next lock uses it once instead of reading again.
   */
  recordFresh = false;
  /** Messages that arrived for the instance so far (tells a read-ahead it is stale). */
  arrivals = 0;

  constructor(
    readonly partition: PartitionRuntime,
    readonly token: string,
    readonly instanceId: string,
  ) {}
}

/** What a partition needs from the engine that owns it. */
export interface PartitionHost {
  readonly res: HubResources;
  readonly log: Logger;
  readonly commitLog: CommitLog;
  /** Held messages of all owned partitions together. */
  readonly prefetch: PrefetchBudget;
  /** Puts an instance with messages on the ready queue (honouring its back-off). */
  makeReady(slot: InstanceSlot): void;
  /** Resends the outbox and records of a commit whose sender may have died (takeover). */
  resend(partition: PartitionRuntime, seq: number, body: CommitBody): Promise<void>;
}

const FETCH_EXPIRES_MS = 5_000;
const FETCH_BATCH = 128;
const RETRY_DELAY_MS = 500;
/** How often the relay mark is written while it moves. */
const MARK_INTERVAL_MS = 1_000;

/**
 * The work of one owned partition: a bounded prefetch from its orchestration
 * consumer into per-instance slots, its outbox relay (see outbox-relay.ts),
 * its timers, and the in-progress acks that keep held messages locked.
 */
export class PartitionRuntime {
  readonly slots = new Map<string, InstanceSlot>();
  readonly relay: OutboxRelay;
  /** Lease deadline less the safety margin, set by the lease manager. */
  usableUntil = 0;
  active = false;
  draining = false;
  private readonly bySeq = new Map<number, HeldMessage>();
  private readonly timers: TimerIndex;
  private readonly stopController = new AbortController();
  private fetchIter: ConsumerMessages | undefined;
  private markTimer: NodeJS.Timeout | undefined;
  private readonly loops: Promise<void>[] = [];
  private keepAlive: NodeJS.Timeout | undefined;
  private readonly subjectPrefix: string;
  private readonly log: Logger;

  constructor(
    private readonly host: PartitionHost,
    readonly partition: number,
    /** Increases with each acquisition; work items remember the one they were locked under. */
    readonly epoch: number,
    private readonly clockNow: () => number,
  ) {
    const { res } = host;
    this.subjectPrefix = res.names.orchSubject(partition, '');
    this.log = host.log.child({ partition });
    this.timers = new TimerIndex(res, partition, res.options.clock, this.log);
    this.relay = new OutboxRelay(res, host.commitLog, partition, this.log);
  }

  get heldCount(): number {
    return this.bySeq.size;
  }

  /** True while work items of this partition may be handed out and committed. */
  usable(now = this.clockNow()): boolean {
    return this.active && !this.draining && now < this.usableUntil;
  }

  /**
   * Starts the partition: waits `waitMs` first (a previous owner's unacked
   * messages come back before new ones, keeping per-instance order), resends
   * the outboxes after the relay mark, then starts fetching.
   */
  async start(waitMs: number): Promise<void> {
    this.active = true;
    const signal = this.stopController.signal;
    if (waitMs > 0) await sleep(waitMs, signal);
    if (!this.active) return;
    await this.timers.start();
    const { res } = this.host;
    const orch = await res.js.consumers.get(res.names.orchStream,
      res.names.orchConsumer(this.partition));
    await this.relay.takeover((seq, body) => this.host.resend(this, seq, body),
      () => this.active);
    if (!this.active) return;
    this.loops.push(this.fetchLoop(orch));
    this.markTimer = setInterval(() => this.writeMark(), MARK_INTERVAL_MS);
    this.markTimer.unref();
    const interval = Math.max(200, Math.floor(res.options.leaseMs / 3));
    this.keepAlive = setInterval(() => this.touchHeld(interval), interval);
    this.keepAlive.unref();
  }

  /** Writes the relay mark while the lease is usable (a lapsed owner writes nothing). */
  private writeMark(): Promise<void> {
    if (this.clockNow() >= this.usableUntil) return Promise.resolve();
    return this.relay.writeMark().catch((err) => backgroundError(this.log, 'relay mark', err));
  }

  private async fetchLoop(consumer: Consumer): Promise<void> {
    const limit = this.host.res.options.prefetchPerPartition;
    while (this.active) {
      try {
        if (!this.usable()) {
          // Self-fence: no pulls while the lease is not known to be held.
          await sleep(RETRY_DELAY_MS, this.stopController.signal);
          continue;
        }
        const space = Math.min(limit - this.bySeq.size, this.host.prefetch.available);
        if (space <= 0) {
          await this.host.prefetch.wait(FETCH_EXPIRES_MS);
          continue;
        }
        const iter = await consumer.fetch({
          max_messages: Math.min(space, FETCH_BATCH), expires: FETCH_EXPIRES_MS,
        });
        this.fetchIter = iter;
        for await (const m of iter) this.onMessage(m);
      } catch (err) {
        if (!this.active) return;
        backgroundError(this.log, 'orchestration fetch', err);
        await sleep(RETRY_DELAY_MS, this.stopController.signal);
      }
    }
  }

  /** Called when `n` messages left the partition (acked, dropped or handed back). */
  private freed(n: number): void {
    this.host.prefetch.release(n);
  }

  onMessage(js: JsMsg): void {
    const seq = js.seq;
    const known = this.bySeq.get(seq);
    if (known) {
      // A redelivery of a message already held: keep the newer delivery's handle.
      known.js = AckHandle.of(this.host.res.nc, js);
      known.touchedAt = this.clockNow();
      return;
    }
    const token = js.subject.startsWith(this.subjectPrefix)
      ? js.subject.slice(this.subjectPrefix.length) : '';
    let message: TaskMessage;
    try {
      message = decodeTaskMessage(js.data, seq);
    } catch (err) {
      messageDiscarded(this.log, { instanceId: token, partition: this.partition, seq,
        eventType: 'unreadable', reason: (err as Error).message });
      js.term();
      return;
    }
    const held = new HeldMessage(AckHandle.of(this.host.res.nc, js), seq, message,
      js.data.length, this.clockNow());
    this.bySeq.set(seq, held);
    this.host.prefetch.take(1);
    let slot = this.slots.get(token);
    if (!slot) {
      slot = new InstanceSlot(this, token, message.orchestrationInstance.instanceId);
      this.slots.set(token, slot);
    }
    insertInOrder(slot.held, held);
    // A client writes the record before it publishes (create, terminate): read it again.
    slot.recordFresh = false;
    slot.arrivals++;
    if (!slot.locked) this.host.makeReady(slot);
  }

  /**
   * Acks messages a checkpoint consumed and forgets them. Plain acks: the
   * commit's `applied` list makes a redelivery of a lost ack harmless.
   */
  ackConsumed(messages: readonly HeldMessage[]): void {
    let n = 0;
    const mux = requestMux(this.host.res);
    for (const m of messages) {
      if (this.bySeq.delete(m.seq)) n++;
      const js = m.js;
      mux.defer(() => js.ack());
    }
    this.freed(n);
  }

  /** Forgets and acks discarded messages (not waited for): the same as consuming them. */
  discard(messages: readonly HeldMessage[]): void {
    this.ackConsumed(messages);
  }

  /** Drops an empty slot that nobody holds. */
  tidy(slot: InstanceSlot): void {
    if (!slot.locked && slot.held.length === 0 && slot.inFlight.length === 0) {
      this.slots.delete(slot.token);
    }
  }

  /** In-progress acks for messages held longer than a third of the ack wait. */
  private touchHeld(intervalMs: number): void {
    const now = this.clockNow();
    if (!this.active || now >= this.usableUntil) {
      // The lease may be gone: stop pulling and let held messages go back to the stream.
      this.fetchIter?.stop();
      return;
    }
    for (const m of this.bySeq.values()) {
      if (now - m.touchedAt >= intervalMs) {
        m.js.working();
        m.touchedAt = now;
      }
    }
    // A slot whose hand-out was dropped while the lease looked unusable (a stalled event loop
    // delays renewals) would wait for its next message: put it back on the ready queue.
    for (const slot of this.slots.values()) {
      if (!slot.locked && !slot.queued && slot.held.length > 0) this.host.makeReady(slot);
    }
  }

  /** Renews the locks of a work item's messages. */
  touch(messages: readonly HeldMessage[]): void {
    const now = this.clockNow();
    for (const m of messages) {
      m.js.working();
      m.touchedAt = now;
    }
  }

  /** Instances held by work items right now. */
  get lockedCount(): number {
    let n = 0;
    for (const s of this.slots.values()) if (s.locked) n++;
    return n;
  }

  /**
   * Stops all work. `returnMessages` NAKs every held message in stream order
   * (a graceful hand-back, so the next owner gets them at once); without it
   * they come back to the next owner after the ack wait.
   */
  async stop(returnMessages: boolean): Promise<void> {
    if (!this.active && this.loops.length === 0) {
      this.active = false;
      await this.timers.stop();
      return;
    }
    this.active = false;
    this.stopController.abort();
    if (this.keepAlive) clearInterval(this.keepAlive);
    if (this.markTimer) clearInterval(this.markTimer);
    this.relay.stop();
    // A graceful hand-back leaves the mark where this owner's sends got to.
    if (returnMessages) await this.writeMark();
    this.fetchIter?.stop();
    this.host.prefetch.wakeAll();
    await Promise.allSettled([...this.loops, this.timers.stop()]);
    if (returnMessages) {
      const all = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
      for (const m of all) m.js.nak();
      await this.host.res.nc.flush().catch(() => undefined);
    }
    this.freed(this.bySeq.size);
    this.bySeq.clear();
  }
}

function insertInOrder(list: HeldMessage[], m: HeldMessage): void {
  let i = list.length;
  while (i > 0 && (list[i - 1] as HeldMessage).seq > m.seq) i--;
  list.splice(i, 0, m);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
