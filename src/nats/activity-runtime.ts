import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { WorkItemLockTable, type WorkItemLock } from '../../actors/work-item-lock.ts';
import { describeMessage, poisonFailure, poisonReason } from '../core/dead-letter.ts';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { HistoryEvent } from '../core/history-event.ts';
import { taskMessage, type TaskMessage } from '../core/task-message.ts';
import type { AbandonOptions } from '../core/orchestration-service.ts';
import type { ActivityWorkItem } from '../core/work-item.ts';
import type { Logger } from '../logging/logger.ts';
import {
  activityResultIgnored, backgroundError, deadLettered, messageDiscarded,
} from '../logging/nats-events.ts';
import { deliveriesSoFar, failedBefore, sendAgainLater } from './activity-retry.ts';
import { publishDeadLetter } from './dead-letters.ts';
import { HandoffQueue } from './handoff-queue.ts';
import type { HubResources } from './hub-resources.ts';
import { encodeInstanceId } from './names.ts';
import { requestMux } from './request-mux.ts';
import { decodeTaskMessage, encodeJson, toWireMessage } from './wire.ts';

interface BufferedActivity {
  js: JsMsg;
  readonly message: TaskMessage;
  touchedAt: number;
}

/** The backend state behind an activity work item's `lockToken`. */
interface ActivityLockToken {
  readonly js: JsMsg;
  readonly lock: WorkItemLock;
  /** The message's ack deadline as this holder knows it (real time); renew extends it. */
  expiresAt: number;
  /** When the lock call handed it out. */
  readonly lockedAt: number;
}

const FETCH_EXPIRES_MS = 5_000;
/**
 * What a stopping worker gives back is redelivered after this delay: the
 * server keeps this worker's last pull request open until it expires and
 * would hand a message given back at once straight to it, where nobody reads
 * it any more (then it waits out the whole ack wait).
 */
const GIVE_BACK_DELAY_MS = FETCH_EXPIRES_MS + 500;
const MAX_NAK_DELAY_MS = 5 * 60_000;
/** A pull waits until at least this share of the prefetch is free (fewer, larger pulls). */
const MIN_PULL_FRACTION = 0.25;
/** The prefetch grows up to this many times `activityPrefetch` while activities are quick. */
const MAX_PREFETCH_FACTOR = 8;
/** An activity that held its lock longer than this shrinks the prefetch again. */
const SLOW_ACTIVITY_MS = 100;

/**
 * Activity work items: a bounded prefetch from the shared activity consumer
 * (ack wait = the activity lock), in-progress acks to renew, NAK with a delay
 * growing with the delivery count to abandon, and completion as a publish of
 * the result to the owner's orchestration subject (deterministic id) followed
 * by a confirmed ack. Messages past the delivery limit are dead-lettered and
 * their owner gets a TaskFailed.
 */
export class ActivityRuntime {
  private readonly queue = new HandoffQueue<BufferedActivity>();
  private readonly lockTable = new WorkItemLockTable();
  private active = false;
  private iter: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private readonly buffered = new Set<BufferedActivity>();
  /** Handed out and neither completed nor abandoned: a forced stop ends these locks. */
  private readonly held = new Set<ActivityLockToken>();
  private spaceWaiter: (() => void) | undefined;
  private ackWaitMs: number;
  /**
   * Messages to hold ahead of lock calls: `activityPrefetch`, doubled while
   * every pull is taken as fast as it arrives (quick activities: fewer,
   * larger pulls), halved back when an activity runs long (slow activities:
   * other workers get the rest).
   */
  private prefetch: number;
  private readonly log: Logger;

  constructor(private readonly res: HubResources, log: Logger) {
    this.log = log.child({ component: 'activities' });
    this.ackWaitMs = res.options.activityLockMs;
    this.prefetch = res.options.activityPrefetch;
  }

  async start(): Promise<void> {
    const { res } = this;
    const consumer = await res.js.consumers.get(res.names.actStream, res.names.activityConsumer);
    const info = await consumer.info(true);
    this.ackWaitMs = Math.floor((info.config.ack_wait ?? this.ackWaitMs * 1e6) / 1_000_000);
    this.active = true;
    this.loop = (async () => {
      while (this.active) {
        try {
          const prefetch = this.prefetch;
          const space = prefetch - this.buffered.size;
          if (space <= 0 || (this.buffered.size > 0 && space < prefetch * MIN_PULL_FRACTION)) {
            await new Promise<void>((r) => {
              const t = setTimeout(r, FETCH_EXPIRES_MS);
              this.spaceWaiter = () => { clearTimeout(t); r(); };
            });
            continue;
          }
          this.iter = await consumer.fetch({ max_messages: space, expires: FETCH_EXPIRES_MS });
          let got = 0;
          for await (const m of this.iter) {
            got++;
            this.onMessage(m);
          }
          // The whole pull arrived and was taken as it came: the next one may be larger.
          if (got >= space && this.buffered.size * 4 <= prefetch) {
            this.prefetch = Math.min(prefetch * 2,
              res.options.activityPrefetch * MAX_PREFETCH_FACTOR);
          }
        } catch (err) {
          if (!this.active) return;
          backgroundError(this.log, 'activity fetch', err);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
    const interval = Math.max(200, Math.floor(this.ackWaitMs / 3));
    this.keepAlive = setInterval(() => {
      const now = Date.now();
      // A lapsed lock is the server's to hand out again: nothing for a forced stop to end.
      for (const token of this.held) if (now >= token.expiresAt) this.held.delete(token);
      for (const b of this.buffered) {
        if (now - b.touchedAt >= interval) {
          b.js.working();
          b.touchedAt = now;
        }
      }
    }, interval);
    this.keepAlive.unref();
  }

  private onMessage(js: JsMsg): void {
    let message: TaskMessage;
    try {
      message = decodeTaskMessage(js.data, js.seq);
    } catch (err) {
      messageDiscarded(this.log, { instanceId: '?', partition: -1, seq: js.seq,
        eventType: 'unreadable', reason: (err as Error).message });
      js.term();
      return;
    }
    const b: BufferedActivity = { js, message, touchedAt: Date.now() };
    this.buffered.add(b);
    this.queue.put(b);
  }

  private taken(b: BufferedActivity): void {
    this.buffered.delete(b);
    const w = this.spaceWaiter;
    this.spaceWaiter = undefined;
    w?.();
  }

  async lockNext(receiveTimeoutMs: number, signal?: AbortSignal): Promise<ActivityWorkItem | null> {
    const deadline = Date.now() + receiveTimeoutMs;
    // Bounded by the deadline: each round takes one buffered message.
    for (;;) {
      const b = await this.queue.take(Math.max(0, deadline - Date.now()), signal);
      if (!b) return null;
      this.taken(b);
      if (!this.active) {
        b.js.nak();
        return null;
      }
      // Copies sent again after a not-handled abandon carry their earlier deliveries.
      const failed = failedBefore(b.js);
      if (failed >= this.res.options.maxDeliveries) {
        await this.deadLetter(b, failed).catch((err) =>
          backgroundError(this.log, 'dead-letter activity', err));
        continue;
      }
      const token: ActivityLockToken = {
        js: b.js, lock: this.lockTable.open(`activity work item ${b.js.seq}`),
        expiresAt: b.touchedAt + this.ackWaitMs, lockedAt: Date.now(),
      };
      this.held.add(token);
      return {
        id: String(b.js.seq),
        taskMessage: await this.res.payloads.resolveMessage(b.message),
        lockedUntil: new Date(token.expiresAt),
        deliveryCount: deliveriesSoFar(b.js),
        lockToken: token,
      };
    }
  }

  private tokenOf(item: ActivityWorkItem): ActivityLockToken {
    const token = item.lockToken as ActivityLockToken | undefined;
    if (!token || typeof token !== 'object' || !('js' in token)) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `Activity work item ${item.id} was not issued by this NATS backend.`);
    }
    return token;
  }

  private checkNotExpired(item: ActivityWorkItem, token: ActivityLockToken): void {
    if (Date.now() >= token.expiresAt) {
      token.lock.tryApply('lose');
      this.held.delete(token);
      throw new DurableTaskError(ErrorCode.LOCK_LOST,
        `The lock of activity work item ${item.id} lapsed at ` +
        `${new Date(token.expiresAt).toISOString()}.`);
    }
  }

  async renew(item: ActivityWorkItem): Promise<ActivityWorkItem> {
    const token = this.tokenOf(item);
    token.lock.check('renew');
    this.checkNotExpired(item, token);
    token.js.working();
    token.lock.apply('renew');
    token.expiresAt = Date.now() + this.ackWaitMs;
    item.lockedUntil = new Date(token.expiresAt);
    return item;
  }

  async complete(item: ActivityWorkItem, response: TaskMessage): Promise<void> {
    const token = this.tokenOf(item);
    token.lock.check('complete');
    this.checkNotExpired(item, token);
    if (Date.now() - token.lockedAt > SLOW_ACTIVITY_MS) {
      // Slow activities: hold fewer messages ahead, so other workers get the rest.
      this.prefetch = Math.max(this.res.options.activityPrefetch, this.prefetch >> 1);
    }
    const owner = item.taskMessage.orchestrationInstance;
    const target = response.orchestrationInstance.instanceId ? response : { ...response,
      orchestrationInstance: owner };
    await this.publishResult(item.taskMessage, target);
    token.lock.apply('complete');
    this.held.delete(token);
    // A plain ack: if it is lost, the rerun's result carries the same id and is dropped.
    const js = token.js;
    requestMux(this.res).defer(() => js.ack());
  }

  private async publishResult(scheduled: TaskMessage, response: TaskMessage): Promise<void> {
    const { names } = this.res;
    const owner = response.orchestrationInstance;
    const token = encodeInstanceId(owner.instanceId);
    const partition = names.partitionOf(owner.instanceId);
    const ownerExec = owner.executionId ?? scheduled.orchestrationInstance.executionId ?? '';
    const taskId = resultTaskId(response.event) ?? scheduled.event.eventId;
    const wire = await this.res.payloads.externalizeMessage(toWireMessage(response));
    const ack = await requestMux(this.res).publish(names.orchSubject(partition, token),
      encodeJson(wire), { msgID: names.resultMessageId(token, ownerExec, taskId) });
    if (ack.duplicate) {
      activityResultIgnored(this.log, owner.instanceId,
        `a result for task ${taskId} was already delivered`);
    }
  }

  /**
   * NAKs the message with a back-off. Only the holder may: after completion,
   * or once the lock lapsed (the message may be another holder's by now), it
   * fails with LOCK_LOST and leaves the message alone. A second abandon is a
   * no-op.
   */
  async abandon(item: ActivityWorkItem, options?: AbandonOptions): Promise<void> {
    const token = this.tokenOf(item);
    if (token.lock.state === 'abandoned') return;
    if (token.lock.state === 'locked') this.checkNotExpired(item, token);
    token.lock.apply('abandon');
    this.held.delete(token);
    const n = Math.max(1, item.deliveryCount);
    const delayMs = n <= 1 ? 0 : Math.min(MAX_NAK_DELAY_MS, 1_000 * 2 ** (n - 2));
    try {
      if (options?.reason === 'not-handled') {
        // Not a failure: a copy comes back later instead, so the delivery does not count.
        await sendAgainLater(this.res, token.js, delayMs, Date.now());
        return;
      }
      const failed = failedBefore(token.js) + 1;
      if (failed >= this.res.options.maxDeliveries) {
        // The last failed delivery the limit allows: dead-lettered now, not redelivered.
        await this.deadLetter({ js: token.js, message: item.taskMessage, touchedAt: 0 }, failed);
        return;
      }
    } catch (err) {
      backgroundError(this.log, 'abandon activity', err);
    }
    token.js.nak(delayMs);
  }

  /** Dead-letters an activity whose deliveries failed `failedDeliveries` times. */
  private async deadLetter(b: BufferedActivity, failedDeliveries: number): Promise<void> {
    const { res } = this;
    const scheduled = b.message;
    const owner = scheduled.orchestrationInstance;
    const token = encodeInstanceId(owner.instanceId);
    const partition = res.names.partitionOf(owner.instanceId);
    const max = res.options.maxDeliveries;
    const reason = poisonReason(failedDeliveries, max);
    await publishDeadLetter(res, 'act', partition, token, b.js.data,
      { reason, seq: b.js.seq, deliveries: failedDeliveries });
    const failureDetails = poisonFailure(describeMessage(scheduled), failedDeliveries, max);
    const failed = taskMessage({
      type: 'TaskFailed', eventId: -1, timestamp: new Date().toISOString(),
      taskScheduledId: scheduled.event.eventId, reason: failureDetails.errorMessage,
      failureDetails,
    }, owner);
    await this.publishResult(scheduled, failed);
    b.js.term();
    deadLettered(this.log, { stream: res.names.actStream, seq: b.js.seq,
      instanceId: owner.instanceId, deliveries: failedDeliveries, reason });
  }

  /**
   * Stops fetching and gives back what is buffered. A forced stop also ends
   * the locks of handed-out work items (their calls then fail with
   * LOCK_LOST) and gives their messages back at once; a graceful stop leaves
   * them to their holders.
   */
  async stop(forced = false): Promise<void> {
    this.active = false;
    if (forced) {
      for (const token of this.held) {
        token.lock.tryApply('lose');
        token.js.nak(GIVE_BACK_DELAY_MS);
      }
      this.held.clear();
    }
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.iter?.stop();
    this.spaceWaiter?.();
    this.queue.wakeAll();
    await this.loop?.catch(() => undefined);
    for (const b of this.buffered) b.js.nak(GIVE_BACK_DELAY_MS);
    this.buffered.clear();
    this.queue.retain(() => false);
    await this.res.nc.flush().catch(() => undefined);
  }
}

function resultTaskId(e: HistoryEvent): number | undefined {
  return e.type === 'TaskCompleted' || e.type === 'TaskFailed' ? e.taskScheduledId : undefined;
}
