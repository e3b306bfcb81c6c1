import { headers as natsHeaders, type MsgHdrs, type QueuedIterator } from '@nats-io/transport-node';
import type { KvWatchEntry } from '@nats-io/kv';
import type { Logger } from '../logging/logger.ts';
import { backgroundError, timerFailed, timerFired } from '../logging/nats-events.ts';
import type { Clock } from '../util/clock.ts';
import type { HubResources } from './hub-resources.ts';
import { PendingStartScan } from './pending-starts.ts';
import { decodeJson, encodeJson, type TimerEntry } from './wire.ts';

interface DueTimer {
  readonly key: string;
  readonly at: number;
  readonly entry: TimerEntry;
}

/**
 * The timers of one owned partition: a watch on the partition's keys of the
 * timer index keeps the due times in memory; when one is due (never earlier,
 * by the clock) its message is published with its deterministic id and the
 * entry is removed. Far timers sleep in chunks (never more than 2^31-1 ms).
 * It also runs the partition's scan for Pending records whose start was
 * never sent (`PendingStartScan`).
 */
export class TimerIndex {
  private readonly due = new Map<string, DueTimer>();
  private watch: QueuedIterator<KvWatchEntry> | undefined;
  private wake: AbortController | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private watchLoop: Promise<void> | undefined;
  private readonly pending: PendingStartScan;

  constructor(
    private readonly res: HubResources,
    private readonly partition: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.pending = new PendingStartScan(res, partition, log);
  }

  async start(): Promise<void> {
    this.watch = await this.res.timers.watch({ key: this.res.names.timerPartitionFilter(
      this.partition) });
    const watch = this.watch;
    if (this.stopped) {
      watch.stop();
      return;
    }
    this.watchLoop = (async () => {
      for await (const e of watch) {
        if (e.operation === 'PUT' && e.length > 0) {
          const entry = decodeJson<TimerEntry>(e.value, 'timer entry');
          this.due.set(e.key, { key: e.key, at: Date.parse(entry.fireAt), entry });
        } else {
          this.due.delete(e.key);
        }
        this.wake?.abort();
      }
    })().catch((err) => {
      if (!this.stopped) backgroundError(this.log, 'timer watch', err);
    });
    this.loop = this.run();
    this.pending.start();
  }

  get size(): number {
    return this.due.size;
  }

  private async run(): Promise<void> {
    // Bounded per wake-up; the loop ends when the index stops.
    while (!this.stopped) {
      const now = this.clock.now();
      let next = Number.POSITIVE_INFINITY;
      const ready: DueTimer[] = [];
      for (const t of this.due.values()) {
        if (t.at <= now) ready.push(t);
        else if (t.at < next) next = t.at;
      }
      if (ready.length > 0) {
        ready.sort((a, b) => a.at - b.at);
        await Promise.all(ready.map((t) => this.fire(t, now)));
        continue;
      }
      this.wake = new AbortController();
      const waitMs = next === Number.POSITIVE_INFINITY ? 60_000 : next - now;
      await this.clock.sleep(waitMs, this.wake.signal).catch(() => undefined);
    }
  }

  private async fire(t: DueTimer, now: number): Promise<void> {
    this.due.delete(t.key);
    try {
      await this.res.js.publish(t.entry.subject, encodeJson(t.entry.msg), {
        msgID: t.entry.id, ...(t.entry.headers ? { headers: headersOf(t.entry.headers) } : {}),
      });
      // No watcher needs to hear of it (this owner dropped it already): purge, leave no marker.
      await purgeTimerKey(this.res, t.key);
      timerFired(this.log, this.partition, t.key, now - t.at);
    } catch (err) {
      if (this.stopped) return;
      timerFailed(this.log, this.partition, t.key, err);
      // Try again a little later; never earlier than due.
      setTimeout(() => {
        if (!this.stopped && !this.due.has(t.key)) {
          this.due.set(t.key, t);
          this.wake?.abort();
        }
      }, 1_000).unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.pending.stop();
    this.wake?.abort();
    this.watch?.stop();
    await Promise.allSettled([this.loop, this.watchLoop]);
    this.due.clear();
  }
}

/** Removes a timer-index key with every trace: a stream purge leaves no delete marker. */
export async function purgeTimerKey(res: HubResources, key: string): Promise<void> {
  const bucket = res.names.timersBucket;
  await res.jsm.streams.purge(`KV_${bucket}`, { filter: `$KV.${bucket}.${key}` });
}

/**
 * Removes a timer-index key that a partition owner may hold in memory: the
 * delete tells its watch, then the purge takes the delete marker away.
 */
export async function removeTimerKey(res: HubResources, key: string): Promise<void> {
  await res.timers.delete(key);
  await purgeTimerKey(res, key);
}

function headersOf(values: Readonly<Record<string, string>>): MsgHdrs {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(values)) h.set(k, v);
  return h;
}
