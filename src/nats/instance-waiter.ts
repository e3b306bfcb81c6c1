import type { KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { Logger } from '../logging/logger.ts';
import { backgroundError } from '../logging/nats-events.ts';
import { MAX_TIMEOUT_MS } from '../util/clock.ts';
import type { HubResources } from './hub-resources.ts';
import { decodeJson, type InstanceRecord } from './wire.ts';

type Check = () => Promise<InstanceRecord | null>;

interface Waiter {
  check: Check;
  settle(record: InstanceRecord | null, err?: unknown): void;
}

/**
 * Waits for instance records to reach a state: one shared watch on the latest
 * records of the hub (updates only) wakes the waiters of a key, which then
 * re-check with a read. Each wait takes a timeout and a signal.
 */
export class InstanceWaiter {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private watch: Promise<QueuedIterator<KvWatchEntry>> | undefined;
  private closed = false;

  constructor(private readonly res: HubResources, private readonly log: Logger) {}

  private ensureWatch(): Promise<QueuedIterator<KvWatchEntry>> {
    if (this.watch) return this.watch;
    const started = this.res.instances.watch({ key: '*', include: 'updates' as const });
    this.watch = started;
    void started.then(async (iter) => {
      try {
        for await (const e of iter) {
          const set = this.waiters.get(e.key);
          if (set) for (const w of set) void this.recheck(w);
        }
      } catch (err) {
        if (!this.closed) backgroundError(this.log, 'instance watch', err);
      } finally {
        if (this.watch === started) this.watch = undefined;
      }
    }, () => {
      if (this.watch === started) this.watch = undefined;
    });
    return started;
  }

  private async recheck(w: Waiter): Promise<void> {
    try {
      const done = await w.check();
      if (done) w.settle(done);
    } catch (err) {
      w.settle(null, err);
    }
  }

  /**
   * Resolves with the record `check` returns once it returns one, or null
   * when the timeout passes first; rejects with ABORTED when the signal fires.
   */
  async wait(key: string, check: Check, timeoutMs: number, signal?: AbortSignal):
    Promise<InstanceRecord | null> {
    if (signal?.aborted) throw abortError(signal);
    await this.ensureWatch();
    return new Promise<InstanceRecord | null>((resolve, reject) => {
      let set = this.waiters.get(key);
      if (!set) {
        set = new Set();
        this.waiters.set(key, set);
      }
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const onAbort = (): void => waiter.settle(null, abortError(signal as AbortSignal));
      const waiter: Waiter = {
        check,
        settle: (record, err) => {
          if (settled) return;
          settled = true;
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          set.delete(waiter);
          if (set.size === 0) this.waiters.delete(key);
          if (err !== undefined) reject(err);
          else resolve(record);
        },
      };
      set.add(waiter);
      timer = setTimeout(() => waiter.settle(null), Math.min(timeoutMs, MAX_TIMEOUT_MS));
      signal?.addEventListener('abort', onAbort, { once: true });
      // The watch only reports later updates: check the current state once.
      void this.recheck(waiter);
    });
  }

  close(): void {
    this.closed = true;
    void this.watch?.then((iter) => iter.stop(), () => undefined);
    for (const set of this.waiters.values()) {
      for (const w of set) {
        w.settle(null, new DurableTaskError(ErrorCode.INVALID_STATE, 'The backend was closed.'));
      }
    }
  }
}

function abortError(signal: AbortSignal): DurableTaskError {
  return new DurableTaskError(ErrorCode.ABORTED, 'The wait was aborted.', { cause: signal.reason });
}

export function decodeRecord(data: Uint8Array): InstanceRecord {
  return decodeJson<InstanceRecord>(data, 'instance record');
}
