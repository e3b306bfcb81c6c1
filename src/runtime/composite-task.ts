import { Task, type CompletionClock } from './task.ts';

/** The finished task that finished first in history order, if any. */
function earliest(tasks: readonly Task<unknown>[],
  which: 'any' | 'failed'): Task<unknown> | undefined {
  let best: Task<unknown> | undefined;
  for (const t of tasks) {
    const done = which === 'any' ? t.isCompleted : t.isFailed;
    if (done && (best === undefined || t.completionOrder < best.completionOrder)) best = t;
  }
  return best;
}

/**
 * Completes with every child's result, in the order of `children`, once all
 * completed; fails with the first child failure in history order. Results that
 * come after the failure are ignored. An empty list completes at once with [].
 */
export class WhenAllTask<T> extends Task<T[]> {
  readonly children: readonly Task<T>[];
  #remaining: number;

  constructor(clock: CompletionClock, children: readonly Task<T>[]) {
    super(clock);
    this.children = children;
    const failed = earliest(children as readonly Task<unknown>[], 'failed');
    this.#remaining = children.filter((c) => !c.isCompleted).length;
    if (failed) {
      this.fail(failed.error);
      return;
    }
    if (this.#remaining === 0) {
      this.complete(children.map((c) => c.result as T));
      return;
    }
    for (const child of children) {
      if (!child.isCompleted) child.onDone((c) => this.#childDone(c));
    }
  }

  #childDone(child: Task<unknown>): void {
    if (this.isCompleted) return;
    if (child.isFailed) {
      this.fail(child.error);
      return;
    }
    this.#remaining--;
    if (this.#remaining === 0) this.complete(this.children.map((c) => c.result as T));
  }
}

/**
 * Completes with the first child to finish (completed or failed), in history
 * order. The caller rejects an empty list before constructing one.
 */
export class WhenAnyTask<T> extends Task<Task<T>> {
  readonly children: readonly Task<T>[];

  constructor(clock: CompletionClock, children: readonly Task<T>[]) {
    super(clock);
    this.children = children;
    const first = earliest(children as readonly Task<unknown>[], 'any');
    if (first) {
      this.complete(first as Task<T>);
      return;
    }
    for (const child of children) child.onDone((c) => this.complete(c as Task<T>));
  }
}
