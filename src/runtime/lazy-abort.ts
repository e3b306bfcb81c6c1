/**
 * An abort signal made only when someone asks for it. Most activities never
 * read their signal; they then cost no AbortController and no listener on the
 * dispatcher's stop signal. Once made, the signal follows `abort()` and the
 * stop signal like an eager one would; `dispose()` detaches the listener.
 */
export class LazyAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #onStop: (() => void) | undefined;

  constructor(private readonly stop: AbortSignal) {}

  /** True once `abort()` ran or the stop signal fired. */
  get aborted(): boolean {
    return this.#aborted || this.stop.aborted;
  }

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    if (this.#aborted) {
      controller.abort(this.#reason);
    } else if (this.stop.aborted) {
      controller.abort(this.stop.reason);
    } else {
      const onStop = (): void => controller.abort(this.stop.reason);
      this.#onStop = onStop;
      this.stop.addEventListener('abort', onStop, { once: true });
    }
    return controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }

  dispose(): void {
    if (this.#onStop) this.stop.removeEventListener('abort', this.#onStop);
    this.#onStop = undefined;
  }
}
