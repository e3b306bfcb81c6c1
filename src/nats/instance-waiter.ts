import type { Msg, Subscription } from '@nats-io/transport-node';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { Logger } from '../logging/logger.ts';
import { backgroundError } from '../logging/nats-events.ts';
import { longTimeout, type LongTimeout } from '../util/long-timeout.ts';
import type { HubResources } from './hub-resources.ts';
import { requestMux } from './request-mux.ts';
import { decodeJson, type InstanceRecord } from './wire.ts';

/**
 * Decides from a latest record (null: none) whether the wait is over: resolves
 * the record to return, or null to keep waiting. It may read more (for
 * example a per-execution record) when the latest one does not decide.
 */
export type RecordCheck = (latest: InstanceRecord | null) =>
  InstanceRecord | null | Promise<InstanceRecord | null>;

interface Waiter {
  check: RecordCheck;
  settle(record: InstanceRecord | null, err?: unknown): void;
}

/** One subscription on a record's subject and the waits it serves. */
interface KeyWatch {
  /** Set once the subscription is made (with the other sends of its event-loop turn). */
  sub: Subscription | undefined;
  readonly waiters: Set<Waiter>;
}

/**
 * Waits for instance records to reach a state. Each waited key has one plain
 * subscription on its KV subject (no JetStream consumer, no round trip), made
 * before the first read so no update can slip between them; the waiters of a
 * key decide from the value each update carries, reading nothing more unless
 * their check needs another record. Keys nobody waits on are not delivered.
 * Each wait takes a timeout and a signal.
 */
export class InstanceWaiter {
  private readonly keys = new Map<string, KeyWatch>();
  private closed = false;

  constructor(private readonly res: HubResources, private readonly log: Logger) {}

  private subscribe(key: string): KeyWatch {
    let watch = this.keys.get(key);
    if (watch) return watch;
    const subject = `$KV.${this.res.names.instancesBucket}.${key}`;
    const waiters = new Set<Waiter>();
    watch = { sub: undefined, waiters };
    const made = watch;
    // Subscribed in the same socket write as the read that follows (both go through the mux,
    // in order), so no update can slip between them.
    requestMux(this.res).defer(() => {
      if (this.keys.get(key) !== made) return;
      made.sub = this.res.nc.subscribe(subject, { callback: (err, msg) => {
        if (err) {
          if (!this.closed) backgroundError(this.log, 'instance record subscription', err);
          return;
        }
        let record: InstanceRecord | null;
        try {
          record = recordOf(msg);
        } catch (e) {
          for (const w of [...waiters]) w.settle(null, e);
          return;
        }
        for (const w of waiters) void this.decide(w, record);
      } });
    });
    this.keys.set(key, watch);
    return watch;
  }

  private async decide(w: Waiter, record: InstanceRecord | null): Promise<void> {
    try {
      const done = await w.check(record);
      if (done) w.settle(done);
    } catch (err) {
      w.settle(null, err);
    }
  }

  /**
   * Resolves with the record `check` returns once it returns one, or null
   * when the timeout passes first; rejects with ABORTED when the signal fires.
   * `read` gives the current latest record once, after the subscription.
   */
  wait(key: string, check: RecordCheck, read: () => Promise<InstanceRecord | null>,
    timeoutMs: number, signal?: AbortSignal): Promise<InstanceRecord | null> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.closed) return Promise.reject(closedError());
    const watch = this.subscribe(key);
    return new Promise<InstanceRecord | null>((resolve, reject) => {
      let timer: LongTimeout | undefined;
      let settled = false;
      const onAbort = (): void => waiter.settle(null, abortError(signal as AbortSignal));
      const waiter: Waiter = {
        check,
        settle: (record, err) => {
          if (settled) return;
          settled = true;
          timer?.clear();
          signal?.removeEventListener('abort', onAbort);
          watch.waiters.delete(waiter);
          if (watch.waiters.size === 0 && this.keys.get(key) === watch) {
            this.keys.delete(key);
            // With the next sends (after the subscription, if it is still to be made).
            requestMux(this.res).defer(() => watch.sub?.unsubscribe());
          }
          if (err !== undefined) reject(err);
          else resolve(record);
        },
      };
      watch.waiters.add(waiter);
      // Any length: a wait longer than 2^31-1 ms must not end early.
      timer = longTimeout(() => waiter.settle(null), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      // The subscription only reports later updates: read the current state once.
      read().then((record) => this.decide(waiter, record), (err) => waiter.settle(null, err));
    });
  }

  close(): void {
    this.closed = true;
    for (const watch of [...this.keys.values()]) {
      for (const w of [...watch.waiters]) w.settle(null, closedError());
      watch.sub?.unsubscribe();
    }
    this.keys.clear();
  }
}

/** The record an update of a KV subject carries; null for a delete or purge. */
function recordOf(msg: Msg): InstanceRecord | null {
  const op = msg.headers?.get('KV-Operation');
  if ((op && op !== 'PUT') || msg.data.length === 0) return null;
  return decodeRecord(msg.data);
}

function closedError(): DurableTaskError {
  return new DurableTaskError(ErrorCode.INVALID_STATE, 'The backend was closed.');
}

function abortError(signal: AbortSignal): DurableTaskError {
  return new DurableTaskError(ErrorCode.ABORTED, 'The wait was aborted.', { cause: signal.reason });
}

export function decodeRecord(data: Uint8Array): InstanceRecord {
  return decodeJson<InstanceRecord>(data, 'instance record');
}
