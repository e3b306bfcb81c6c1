import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FailureDetails } from '../../src/core/failure-details.ts';
import type { HistoryEvent } from '../../src/core/history-event.ts';
import { DurableTaskError, TaskFailedError } from '../../src/core/errors.ts';
import { backendFixtures } from '../support/backends.ts';
import { delay, outputOf } from '../support/conformance-helpers.ts';
import { startHub } from '../support/hub-harness.ts';
import type { Orchestrator, RetryOptions } from '../support/runtime-api.ts';

/** Durations of the retry timers in a history: fireAt minus the episode's time. */
function timerDelays(history: readonly HistoryEvent[]): number[] {
  const out: number[] = [];
  let episodeAt = 0;
  for (const e of history) {
    if (e.type === 'OrchestratorStarted') episodeAt = Date.parse(e.timestamp);
    if (e.type === 'TimerCreated') out.push(Date.parse(e.fireAt) - episodeAt);
  }
  return out;
}

function failureOf(err: unknown): FailureDetails | undefined {
  return (err as { failureDetails?: FailureDetails }).failureDetails;
}

/** Calls `Flaky` under `retry` and reports the outcome instead of failing. */
const callWithRetry = (retry: RetryOptions): Orchestrator =>
  function* (ctx, key: string) {
    try {
      const r: string = yield ctx.callActivity('Flaky', key, { retry });
      return { ok: r };
    } catch (err) {
      return { failed: failureOf(err)?.errorMessage ?? String(err) };
    }
  };

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('[48] an unhandled orchestrator exception fails the instance', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          NeedsInput: function* (ctx, input: string | null) {
            if (input === null || input === undefined || input === '') {
              throw new TypeError('Value cannot be null (argument "input")');
            }
            return yield ctx.callActivity('Never');
          },
          ThrowsAtOnce: function* () {
            throw new Error('at once');
          },
        },
      });
      if (!hub) return;
      const [nullArg, atOnce] = await Promise.all([
        hub.run('NeedsInput', { input: '' }),
        hub.run('ThrowsAtOnce'),
      ]);
      assert.equal(nullArg.orchestrationStatus, 'Failed');
      assert.match(nullArg.output ?? '', /null/);
      assert.equal(nullArg.failureDetails?.errorType, 'TypeError');
      assert.equal(atOnce.orchestrationStatus, 'Failed');
      assert.match(atOnce.output ?? '', /at once/);
    });

    it('[49] an unhandled activity exception fails the orchestration', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Boom: function* (ctx) {
            return yield ctx.callActivity('Explode');
          },
        },
        activities: {
          Explode: () => {
            throw new Error('Kah-BOOOOM!!!');
          },
        },
      });
      if (!hub) return;
      const state = await hub.run('Boom');
      assert.equal(state.orchestrationStatus, 'Failed');
      assert.match(state.output ?? '', /Kah-BOOOOM!!!/);
    });

    it('[50] handled activity exceptions let the orchestration complete', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Catcher: function* (ctx) {
            let caught = 0;
            for (let i = 0; i < 5; i++) {
              try {
                yield ctx.callActivity('Explode', i);
              } catch {
                caught++;
              }
            }
            return caught;
          },
        },
        activities: {
          Explode: () => {
            throw new Error('boom');
          },
        },
      });
      if (!hub) return;
      assert.equal(outputOf(await hub.run('Catcher')), 5);
    });

    it('[51] failure details: type, message, stack, type checks (design 9.23)', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Inspect: function* (ctx) {
            try {
              yield ctx.callActivity('Explode');
              return 'no failure';
            } catch (err) {
              const d = failureOf(err);
              return {
                isTaskFailed: err instanceof TaskFailedError,
                isBase: err instanceof DurableTaskError,
                errorType: d?.errorType,
                errorMessage: d?.errorMessage,
                stackNamesActivity: /explodingActivity/.test(d?.stackTrace ?? ''),
              };
            }
          },
          Uncaught: function* (ctx) {
            return yield ctx.callActivity('Explode');
          },
        },
        activities: {
          Explode: function explodingActivity() {
            throw new RangeError('value out of range');
          },
        },
      });
      if (!hub) return;
      const [caught, uncaught] = await Promise.all([hub.run('Inspect'), hub.run('Uncaught')]);
      assert.deepEqual(outputOf(caught), {
        isTaskFailed: true,
        isBase: true,
        errorType: 'RangeError',
        errorMessage: 'value out of range',
        stackNamesActivity: true,
      });
      assert.equal(uncaught.orchestrationStatus, 'Failed');
      const out = uncaught.output ?? '';
      assert.ok(out.startsWith('TaskFailedError: '), out);
      assert.match(out, /Explode/);
      assert.match(out, /#0/);
      assert.match(out, /value out of range/);
    });

    it('[52] activity retry policies', async (t) => {
      const calls = new Map<string, number>();
      const failFirst = new Map<string, number>([
        ['a', 3],
        ['b', 3],
        ['c', 2],
        ['d', 99],
        ['e', 99],
      ]);
      const hub = await startHub(t, fixture, {
        orchestrations: {
          A: callWithRetry({ firstRetryIntervalMs: 100, maxNumberOfAttempts: 4 }),
          B: callWithRetry({ firstRetryIntervalMs: 100, maxNumberOfAttempts: 3 }),
          C: callWithRetry({
            firstRetryIntervalMs: 50,
            maxNumberOfAttempts: 5,
            backoffCoefficient: 10,
            maxRetryIntervalMs: 300,
          }),
          D: callWithRetry({
            firstRetryIntervalMs: 500,
            maxNumberOfAttempts: 10,
            backoffCoefficient: 2,
            retryTimeoutMs: 1_000,
          }),
          E: callWithRetry({ firstRetryIntervalMs: 10, maxNumberOfAttempts: 3 }),
        },
        activities: {
          Flaky: (_ctx, key: string) => {
            const n = (calls.get(key) ?? 0) + 1;
            calls.set(key, n);
            if (n <= (failFirst.get(key) ?? 0)) throw new Error(`attempt ${n} of ${key} failed`);
            return `${key} ok at ${n}`;
          },
        },
      });
      if (!hub) return;
      const [a, b, c, d, e] = await Promise.all(
        ['A', 'B', 'C', 'D', 'E'].map((name) =>
          hub.run(name, { input: name.toLowerCase(), instanceId: `retry-${name}` }),
        ),
      );
      assert.deepEqual(outputOf(a!), { ok: 'a ok at 4' });
      assert.deepEqual(outputOf(b!), { failed: 'attempt 3 of b failed' });
      assert.equal(calls.get('b'), 3);
      assert.deepEqual(outputOf(c!), { ok: 'c ok at 3' });
      const cDelays = timerDelays(await hub.client.getOrchestrationHistory('retry-C'));
      assert.deepEqual(cDelays.slice(0, 2), [50, 300], `backoff delays ${cDelays.join(', ')}`);
      const dCalls = calls.get('d') ?? 0;
      assert.ok(dCalls >= 2 && dCalls <= 3, `retry timeout allowed ${dCalls} attempts`);
      assert.ok('failed' in (outputOf(d!) as object));
      assert.equal(calls.get('e'), 3);
      assert.ok('failed' in (outputOf(e!) as object));
      const eDelays = timerDelays(await hub.client.getOrchestrationHistory('retry-E'));
      assert.ok(eDelays.reduce((x, y) => x + y, 0) >= 20, `retry delays ${eDelays.join(', ')}`);
    });

    it('[53] retry arithmetic: N calls, N timers (last zero-length), rethrown type', async (t) => {
      let calls = 0;
      const hub = await startHub(t, fixture, {
        orchestrations: {
          Always: function* (ctx) {
            try {
              yield ctx.callActivity('Fail', undefined, {
                retry: { firstRetryIntervalMs: 100, maxNumberOfAttempts: 3 },
              });
              return 'no failure';
            } catch (err) {
              return {
                taskFailed: err instanceof TaskFailedError,
                type: failureOf(err)?.errorType,
              };
            }
          },
        },
        activities: {
          Fail: () => {
            calls++;
            throw new RangeError('always');
          },
        },
      });
      if (!hub) return;
      const state = await hub.run('Always', { instanceId: 'always' });
      assert.deepEqual(outputOf(state), { taskFailed: true, type: 'RangeError' });
      assert.equal(calls, 3);
      const delays = timerDelays(await hub.client.getOrchestrationHistory('always'));
      assert.equal(delays.length, 3, `retry timers: ${delays.join(', ')}`);
      assert.equal(delays[2], 0, 'the last retry timer is not zero-length');
      assert.equal(
        delays.reduce((x, y) => x + y, 0),
        200,
      );
    });

    it('[53] zero interval refused; handle stops retries; non-retriable skips it', async (t) => {
      const calls = { inner: 0, fatal: 0 };
      const hub = await startHub(t, fixture, {
        orchestrations: {
          ZeroInterval: function* (ctx) {
            try {
              const task = ctx.callActivity('Noop', undefined, {
                retry: { firstRetryIntervalMs: 0, maxNumberOfAttempts: 3 },
              });
              yield task;
              return 'accepted';
            } catch (err) {
              return (err as { code?: string }).code ?? String(err);
            }
          },
          Handled: function* (ctx) {
            let handleCalls = 0;
            let sawInner = false;
            try {
              yield ctx.callActivity('Inner', undefined, {
                retry: {
                  firstRetryIntervalMs: 50,
                  maxNumberOfAttempts: 5,
                  handle: (failure: unknown) => {
                    if (!ctx.isReplaying) handleCalls++;
                    const d = failureOf(failure) ?? (failure as FailureDetails);
                    sawInner = d.innerFailure?.errorMessage === 'inner cause';
                    return false;
                  },
                },
              });
              return -1;
            } catch {
              return sawInner ? handleCalls : -2;
            }
          },
          NonRetriable: function* (ctx) {
            let handleCalls = 0;
            try {
              yield ctx.callActivity('Fatal', undefined, {
                retry: {
                  firstRetryIntervalMs: 50,
                  maxNumberOfAttempts: 5,
                  handle: () => {
                    handleCalls++;
                    return true;
                  },
                },
              });
              return -1;
            } catch {
              return handleCalls;
            }
          },
        },
        activities: {
          Noop: () => null,
          Inner: () => {
            calls.inner++;
            throw new Error('outer', { cause: new Error('inner cause') });
          },
          Fatal: () => {
            calls.fatal++;
            throw Object.assign(new Error('fatal'), { isNonRetriable: true });
          },
        },
      });
      if (!hub) return;
      const [zero, handled, fatal] = await Promise.all([
        hub.run('ZeroInterval'),
        hub.run('Handled'),
        hub.run('NonRetriable'),
      ]);
      assert.equal(outputOf(zero), 'INVALID_ARGUMENT');
      assert.equal(outputOf(handled), 1);
      assert.equal(calls.inner, 1);
      assert.equal(outputOf(fatal), 0);
      assert.equal(calls.fatal, 1);
    });

    it('[67] a missing activity registration is retried until a worker has it', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          UsesLate: function* (ctx) {
            return yield ctx.callActivity('Late');
          },
        },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('UsesLate');
      await delay(2_000);
      const mid = await hub.client.getOrchestrationState(instanceId);
      assert.ok(
        mid && ['Pending', 'Running'].includes(mid.orchestrationStatus),
        `status while the activity is unknown: ${mid?.orchestrationStatus}`,
      );
      await hub.addWorker({
        orchestrations: {
          UsesLate: function* (ctx) {
            return yield ctx.callActivity('Late');
          },
        },
        activities: { Late: () => 'done' },
      });
      const done = await hub.wait(instanceId, 120_000);
      assert.equal(outputOf(done), 'done');
    });
  });
}
