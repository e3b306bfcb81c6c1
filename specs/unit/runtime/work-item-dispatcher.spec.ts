import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino, type Logger } from 'pino';
import { DurableTaskError } from '../../../src/core/errors.ts';
import {
  fetchBackoffMs,
  WorkItemDispatcher,
  type WorkItemDispatcherOptions,
} from '../../../src/runtime/work-item-dispatcher.ts';
import { SimClock } from '../../support/sim-clock.ts';

interface Captured {
  readonly lines: Record<string, unknown>[];
  readonly logger: Logger;
}

function capture(): Captured {
  const lines: Record<string, unknown>[] = [];
  const logger: Logger = pino({ level: 'trace' },
    { write: (s: string) => lines.push(JSON.parse(s)) }) as unknown as Logger;
  return { lines, logger };
}

/** Lets pending promise callbacks run; bounded. */
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

async function until(cond: () => boolean, what: string, rounds = 500): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function options<T>(over: Partial<WorkItemDispatcherOptions<T>> & Pick<WorkItemDispatcherOptions<T>,
  'fetch' | 'logger' | 'clock'>): WorkItemDispatcherOptions<T> {
  return {
    name: 'test',
    maxConcurrent: 5,
    dispatcherCount: 1,
    receiveTimeoutMs: 30_000,
    process: async () => undefined,
    delayAfterFetchErrorMs: () => 0,
    describe: (item) => String(item),
    ...over,
  };
}

/** A fetch that blocks until the dispatcher stops (no work). */
function idle(clock: SimClock) {
  return async (ms: number, signal: AbortSignal): Promise<null> => {
    await clock.sleep(ms, signal).catch(() => undefined);
    return null;
  };
}

describe('WorkItemDispatcher', () => {
  it('[82] should keep fetching after invalid-operation, timeout and cancellation errors',
    async () => {
    const clock = new SimClock();
    const { logger } = capture();
    const errors = [new Error('invalid operation'), new DurableTaskError('TIMEOUT', 'timeout'),
      new DOMException('cancelled', 'AbortError')];
    let calls = 0;
    const wait = idle(clock);
    const d = new WorkItemDispatcher<string>(options<string>({
      logger, clock,
      fetch: async (ms, signal) => {
        const err = errors[calls++ % 3];
        if (calls <= 6) throw err;
        return wait(ms, signal);
      },
    }));
    d.start();
    // Each failed call is followed by a pause (at least 100 ms, growing): move time past it.
    for (let i = 0; i < 50 && calls < 7; i++) {
      await settle();
      if (clock.nextDeadline !== undefined && calls < 7) clock.set(clock.nextDeadline);
    }
    await until(() => calls >= 7, '7 fetch calls');
    await d.stop();
    assert.ok(calls >= 5);
  });

  it('[82] should log a loop failure and back off 10 s when the fetch-delay hook throws',
    async () => {
    const clock = new SimClock();
    const { logger, lines } = capture();
    let calls = 0;
    const wait = idle(clock);
    const d = new WorkItemDispatcher<string>(options<string>({
      logger, clock,
      fetch: async (ms, signal) => {
        calls++;
        if (calls === 1) throw new Error('fetch broke');
        return wait(ms, signal);
      },
      delayAfterFetchErrorMs: () => {
        throw new Error('hook broke');
      },
    }));
    d.start();
    await until(() => lines.some((l) => l['event'] === 'runtime.dispatcher_loop_failed'),
      'loop failure');
    await settle();
    assert.equal(calls, 1, 'no fetch during the back-off');
    clock.advance(9_999);
    await settle();
    assert.equal(calls, 1);
    clock.advance(1);
    await until(() => calls === 2, 'fetch after the back-off');
    await d.stop();
  });

  it('[82] should process three items with concurrency 5 and stop gracefully', async () => {
    const clock = new SimClock();
    const { logger, lines } = capture();
    const queue = ['a', 'b', 'c'];
    const done: string[] = [];
    const wait = idle(clock);
    const d = new WorkItemDispatcher<string>(options<string>({
      logger, clock,
      fetch: async (ms, signal) => queue.shift() ?? wait(ms, signal),
      process: async (item) => {
        done.push(item);
      },
    }));
    d.start();
    await until(() => done.length === 3, 'three items processed');
    await d.stop();
    assert.deepEqual(done.sort(), ['a', 'b', 'c']);
    assert.ok(lines.some((l) => l['event'] === 'runtime.dispatcher_stopped'));
    assert.ok(!lines.some((l) => l['event'] === 'runtime.dispatcher_loop_failed'));
  });

  it('should never run more items at once than its concurrency', async () => {
    const clock = new SimClock();
    const { logger } = capture();
    let running = 0;
    let peak = 0;
    let processed = 0;
    const gates: (() => void)[] = [];
    let n = 0;
    const d = new WorkItemDispatcher<number>(options<number>({
      logger, clock, maxConcurrent: 2, dispatcherCount: 3,
      fetch: async (ms, signal) => (n < 6 ? n++ : idle(clock)(ms, signal)),
      process: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => gates.push(r));
        running--;
        processed++;
      },
    }));
    d.start();
    for (let i = 0; i < 50 && processed < 6; i++) {
      await until(() => gates.length > 0 || processed === 6, 'an item to block');
      gates.shift()?.();
      await settle(2);
    }
    await until(() => processed === 6, 'all items');
    await d.stop();
    assert.equal(peak, 2);
  });

  it('should abort in-flight items on a forced stop, also during a graceful one', async () => {
    const clock = new SimClock();
    const { logger } = capture();
    let aborted = false;
    let started = false;
    let given = false;
    const d = new WorkItemDispatcher<string>(options<string>({
      logger, clock,
      fetch: async (ms, signal) => {
        if (given) return idle(clock)(ms, signal);
        given = true;
        return 'long';
      },
      process: (_item, signal) => new Promise<void>((resolve) => {
        started = true;
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve();
        }, { once: true });
      }),
    }));
    d.start();
    await until(() => started, 'processing to start');
    const graceful = d.stop();
    await settle();
    assert.equal(aborted, false, 'a graceful stop waits');
    await d.stop({ forced: true });
    await graceful;
    assert.equal(aborted, true);
  });

  it('should hand back an item fetched while stopping without processing it', async () => {
    const clock = new SimClock();
    const { logger } = capture();
    const released: string[] = [];
    let processed = 0;
    let stopNow: (() => void) | undefined;
    const d = new WorkItemDispatcher<string>(options<string>({
      logger, clock,
      fetch: (_ms, signal) => new Promise<string>((resolve) => {
        stopNow = () => resolve('late');
        void signal;
      }),
      process: async () => {
        processed++;
      },
      releaseUnprocessed: async (item) => {
        released.push(item);
      },
    }));
    d.start();
    await until(() => stopNow !== undefined, 'a fetch in progress');
    const stopping = d.stop();
    stopNow?.();
    await stopping;
    assert.deepEqual(released, ['late']);
    assert.equal(processed, 0);
  });

  it('should pause at least 100 ms after every failed lock call, doubling up to 5 s',
    async () => {
    const clock = new SimClock();
    const { logger, lines } = capture();
    let calls = 0;
    const d = new WorkItemDispatcher<string>(options<string>({
      logger, clock,
      fetch: async () => {
        calls++;
        throw new DurableTaskError('HUB_NOT_RUNNING', 'the hub is stopped');
      },
      delayAfterFetchErrorMs: () => 0,
    }));
    d.start();
    const delays: unknown[] = [];
    for (let i = 0; i < 9; i++) {
      await until(() => calls === i + 1, `lock call ${i + 1}`);
      await settle();
      assert.equal(calls, i + 1, 'no lock call during the pause');
      const failed = lines.filter((l) => l['event'] === 'runtime.fetch_failed');
      const delay = failed[failed.length - 1]?.['delayMs'] as number;
      delays.push(delay);
      clock.advance(delay - 1);
      await settle();
      assert.equal(calls, i + 1, 'still pausing 1 ms before the end');
      clock.advance(1);
    }
    await until(() => calls === 10, 'the call after the last pause');
    await d.stop();
    assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  it('should pause after a lock call that returns nothing long before its receive timeout',
    async () => {
    const clock = new SimClock();
    const { logger } = capture();
    let calls = 0;
    const d = new WorkItemDispatcher<string>(options<string>({
      logger, clock,
      fetch: async () => {
        calls++;
        return null;
      },
    }));
    d.start();
    await until(() => calls === 1, 'the first lock call');
    await settle();
    assert.equal(calls, 1, 'an empty answer at once is not asked again at once');
    clock.advance(100);
    await until(() => calls === 2, 'the call after the pause');
    await d.stop();
  });

  it('should reset the pause once a lock call succeeds', () => {
    assert.equal(fetchBackoffMs(1, 0), 100);
    assert.equal(fetchBackoffMs(3, 0), 400);
    assert.equal(fetchBackoffMs(50, 0), 5000);
    assert.equal(fetchBackoffMs(1, 1000), 1000, 'a longer delay the backend asks for wins');
    assert.equal(fetchBackoffMs(2, Number.NaN), 200, 'a bad backend delay is ignored');
  });

  it('should share its stop signals among many loops and items without a listener warning',
    async () => {
    const clock = new SimClock();
    const { logger } = capture();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    const gates: (() => void)[] = [];
    let n = 0;
    const d = new WorkItemDispatcher<number>(options<number>({
      logger, clock, maxConcurrent: 30, dispatcherCount: 15,
      fetch: async (ms, signal) => (n < 30 ? n++ : idle(clock)(ms, signal)),
      process: (_item, signal) => new Promise<void>((resolve) => {
        const done = (): void => resolve();
        signal.addEventListener('abort', done, { once: true });
        gates.push(() => {
          signal.removeEventListener('abort', done);
          resolve();
        });
      }),
    }));
    try {
      d.start();
      await until(() => gates.length === 30, 'thirty items in flight');
      await new Promise((r) => setImmediate(r));
      for (const open of gates.splice(0)) open();
      await d.stop();
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning'), []);
  });
});
