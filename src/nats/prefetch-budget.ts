/**
 * One budget of held (fetched, not yet acked) orchestration messages for the
 * whole process, shared by every owned partition, so memory does not grow
 * with the number of partitions a worker owns. Each partition also keeps its
 * own cap. Waits are bounded by a timeout and detach on every path.
 */
export class PrefetchBudget {
  private used = 0;
  private readonly waiters = new Set<() => void>();

  constructor(readonly limit: number) {}

  get available(): number {
    return this.limit - this.used;
  }

  /** `n` messages are now held. */
  take(n: number): void {
    this.used += n;
  }

  /** `n` held messages left (acked, dropped or handed back): wakes every waiting fetch. */
  release(n: number): void {
    if (n <= 0) return;
    this.used = Math.max(0, this.used - n);
    for (const w of [...this.waiters]) w();
  }

  /** Resolves on the next release, or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** Ends every wait at once (shutdown). */
  wakeAll(): void {
    for (const w of [...this.waiters]) w();
  }
}
