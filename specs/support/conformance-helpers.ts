import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { HistoryEvent } from '../../src/core/history-event.ts';
import type { OrchestrationState } from '../../src/core/orchestration-state.ts';
import type { OrchestrationStatus } from '../../src/core/orchestration-status.ts';
import { isDurableTaskError, type ErrorCode } from '../../src/core/errors.ts';

export { delay };

/** Parses a stored JSON payload (output, input, custom status). */
export function payload(text: string | null | undefined): unknown {
  assert.ok(typeof text === 'string', `expected a JSON payload, got ${String(text)}`);
  return JSON.parse(text);
}

/** Asserts the final status and returns the parsed output. */
export function outputOf(
  state: OrchestrationState,
  status: OrchestrationStatus = 'Completed',
): unknown {
  assert.equal(
    state.orchestrationStatus,
    status,
    `expected ${status}, got ${state.orchestrationStatus} (output ${state.output ?? '-'})`,
  );
  return state.output === undefined ? undefined : payload(state.output);
}

/** Rejects with a DurableTaskError of `code`. */
export async function rejectsWithCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(
      isDurableTaskError(err, code),
      `expected ${code}, got ${(err as { code?: string })?.code ?? ''} ${String(err)}`,
    );
    return true;
  });
}

export function countType(history: readonly HistoryEvent[], type: HistoryEvent['type']): number {
  return history.filter((e) => e.type === type).length;
}

export function ofType<T extends HistoryEvent['type']>(
  history: readonly HistoryEvent[],
  type: T,
): Extract<HistoryEvent, { type: T }>[] {
  return history.filter((e): e is Extract<HistoryEvent, { type: T }> => e.type === type);
}

/**
 * Polls `probe` until it returns a truthy value; bounded by `timeoutMs`.
 * Returns the value or throws with `what` on timeout.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    await delay(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
}

/** A latch an activity can wait on; opened by the test. Waits are bounded. */
export function gate(): { open(): void; wait(timeoutMs?: number): Promise<boolean> } {
  let opened = false;
  const waiters = new Set<() => void>();
  return {
    open() {
      opened = true;
      for (const w of waiters) w();
      waiters.clear();
    },
    async wait(timeoutMs = 30_000) {
      if (opened) return true;
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(done);
          resolve(false);
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        waiters.add(done);
      });
    },
  };
}
