import { MAX_TIMEOUT_MS } from './clock.ts';

/** A pending `longTimeout`; `clear()` cancels it (idempotent). */
export interface LongTimeout {
  clear(): void;
}

/**
 * Runs `fn` once after `ms` milliseconds, for any `ms`: the wait is made of
 * timers of at most 2^31-1 ms, so a far deadline never fires early (a single
 * `setTimeout` would fire at once). `Infinity` never fires.
 */
export function longTimeout(fn: () => void, ms: number): LongTimeout {
  let timer: NodeJS.Timeout | undefined;
  let cleared = false;
  const deadline = Date.now() + ms;
  const step = (): void => {
    timer = undefined;
    if (cleared) return;
    const left = deadline - Date.now();
    if (left <= 0) {
      fn();
      return;
    }
    timer = setTimeout(step, Math.min(left, MAX_TIMEOUT_MS));
  };
  if (Number.isFinite(ms)) timer = setTimeout(step, Math.min(Math.max(0, ms), MAX_TIMEOUT_MS));
  return {
    clear() {
      cleared = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
