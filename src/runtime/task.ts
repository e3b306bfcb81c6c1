/**
 * Tasks are what orchestrator code yields: an activity call, a timer, an
 * external event, a sub-orchestration or a composite of those. They are not
 * promises: the executor resolves them synchronously while it processes
 * history events, and resumes the generator that waits on them at once, so a
 * replay runs user code in exactly the order of the original run.
 */

/** Where a task is in its life. A task completes or fails at most once. */
export type TaskState = 'pending' | 'completed' | 'failed';

/**
 * Counter shared by the tasks of one execution. Each task takes the next
 * value when it finishes, so "which finished first" follows history order.
 */
export interface CompletionClock {
  tick(): number;
}

export function completionClock(): CompletionClock {
  let n = 0;
  return { tick: () => n++ };
}

type Listener = (task: Task<unknown>) => void;

export class Task<T = unknown> {
  #state: TaskState = 'pending';
  #result: T | undefined;
  #error: unknown;
  #order = -1;
  #listeners: Listener[] | undefined;
  readonly #clock: CompletionClock;

  /** @internal Tasks are created by the orchestration context. */
  constructor(clock: CompletionClock) {
    this.#clock = clock;
  }

  get state(): TaskState {
    return this.#state;
  }

  /** True once the task completed or failed. */
  get isCompleted(): boolean {
    return this.#state !== 'pending';
  }

  get isFailed(): boolean {
    return this.#state === 'failed';
  }

  /** The result of a completed task; undefined otherwise. */
  get result(): T | undefined {
    return this.#result;
  }

  /** The error of a failed task; undefined otherwise. */
  get error(): unknown {
    return this.#error;
  }

  /** @internal Position in the execution's completion order; -1 while pending. */
  get completionOrder(): number {
    return this.#order;
  }

  /** @internal Completes the task; false when it was already finished. */
  complete(value: T): boolean {
    if (this.#state !== 'pending') return false;
    this.#state = 'completed';
    this.#result = value;
    this.#finish();
    return true;
  }

  /** @internal Fails the task; false when it was already finished. */
  fail(error: unknown): boolean {
    if (this.#state !== 'pending') return false;
    this.#state = 'failed';
    this.#error = error;
    this.#finish();
    return true;
  }

  /** @internal Calls `listener` once when the task finishes (at once if it has). */
  onDone(listener: Listener): void {
    if (this.#state !== 'pending') {
      listener(this as Task<unknown>);
      return;
    }
    (this.#listeners ??= []).push(listener);
  }

  #finish(): void {
    this.#order = this.#clock.tick();
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (!listeners) return;
    for (const l of listeners) l(this as Task<unknown>);
  }
}

/** A durable timer. Cancelling it lets the orchestration complete without waiting for it. */
export class TimerTask extends Task<void> {
  readonly id: number;
  readonly fireAt: Date;
  readonly #onCancel: (task: TimerTask) => void;
  #cancelled = false;

  /** @internal */
  constructor(clock: CompletionClock, id: number, fireAt: Date, onCancel: (t: TimerTask) => void) {
    super(clock);
    this.id = id;
    this.fireAt = fireAt;
    this.#onCancel = onCancel;
  }

  get isCancelled(): boolean {
    return this.#cancelled;
  }

  /**
   * Cancels a pending timer: it fails with an `ABORTED` error, no longer keeps
   * the orchestration running, and its `TimerFired` is ignored when it comes.
   * No effect on a finished timer.
   */
  cancel(): void {
    if (this.isCompleted) return;
    this.#cancelled = true;
    this.#onCancel(this);
  }
}

/** True for values that orchestrator code may yield. */
export function isTask(value: unknown): value is Task<unknown> {
  return value instanceof Task;
}
