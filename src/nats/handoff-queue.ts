import { longTimeout, type LongTimeout } from '../util/long-timeout.ts';

interface Waiter<T> {
  resolve(value: T | null): void;
}

/**
 * A FIFO of ready items and a FIFO of waiting takers. `take` waits at most its
 * timeout (and its signal) and resolves null when nothing came; every path
 * detaches its timer and listener.
 */
export class HandoffQueue<T> {
  private items: T[] = [];
  private head = 0;
  private readonly waiters: Waiter<T>[] = [];

  get size(): number {
    return this.items.length - this.head;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  put(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.items.push(item);
  }

  /** Removes queued items the predicate rejects (for example, of a lost partition). */
  retain(keep: (item: T) => boolean): void {
    this.items = this.items.slice(this.head).filter(keep);
    this.head = 0;
  }

  /** Takes the next item now, or null. */
  poll(): T | null {
    if (this.head >= this.items.length) return null;
    const item = this.items[this.head] as T;
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /**
   * Waits for the next item at most `timeoutMs`. A timeout of 0 (or less)
   * polls once: when nothing is queued it answers null only after other I/O
   * had a turn, so a caller that polls in a loop cannot starve the process.
   */
  take(timeoutMs: number, signal?: AbortSignal): Promise<T | null> {
    const now = this.poll();
    if (now !== null) return Promise.resolve(now);
    if (signal?.aborted) return Promise.resolve(null);
    if (!(timeoutMs > 0)) {
      return new Promise((resolve) => setImmediate(() => resolve(this.poll())));
    }
    return new Promise<T | null>((resolve) => {
      let timer: LongTimeout | undefined;
      const onAbort = (): void => finish(null);
      const waiter: Waiter<T> = { resolve: (v) => finish(v) };
      const finish = (value: T | null): void => {
        timer?.clear();
        signal?.removeEventListener('abort', onAbort);
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(value);
      };
      this.waiters.push(waiter);
      // Any length: a wait longer than 2^31-1 ms must not end early.
      timer = longTimeout(() => finish(null), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Resolves every waiting taker with null (shutdown). */
  wakeAll(): void {
    for (const w of this.waiters.splice(0)) w.resolve(null);
  }
}
