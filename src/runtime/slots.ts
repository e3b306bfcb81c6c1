/**
 * A counting semaphore whose waits are bounded by a timeout and an
 * AbortSignal, with listeners detached on every path.
 */
export class Slots {
  #free: number;
  readonly #waiters: ((granted: boolean) => void)[] = [];

  constructor(count: number) {
    this.#free = count;
  }

  get free(): number {
    return this.#free;
  }

  /** Resolves true with a slot, false when the timeout passed or the signal fired first. */
  acquire(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (granted: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const i = this.#waiters.indexOf(finish);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(granted);
      };
      const onAbort = (): void => finish(false);
      timer = setTimeout(() => finish(false), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(finish);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next(true);
    else this.#free++;
  }
}
