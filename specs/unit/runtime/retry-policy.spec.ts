import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDurableTaskError, TaskFailedError } from '../../../src/core/errors.ts';
import type { Orchestrator } from '../../../src/runtime/orchestration-context.ts';
import { RetryPolicy } from '../../../src/runtime/retry-policy.ts';
import { EpisodeHarness } from './episode-harness.ts';

function alwaysFails(): never {
  throw new Error('always fails');
}

describe('RetryPolicy', () => {
  it('[53] should reject a zero first interval at construction', () => {
    assert.throws(
      () => new RetryPolicy({ firstRetryIntervalMs: 0, maxNumberOfAttempts: 3 }),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /firstRetryIntervalMs/.test(e.message),
    );
    assert.throws(() => new RetryPolicy({ firstRetryIntervalMs: 10, maxNumberOfAttempts: 0 }));
  });

  it('should refuse a misspelled option, naming the one it likely means', () => {
    assert.throws(
      () =>
        new RetryPolicy({
          firstRetryIntervalMs: 10,
          maxNumberOfAttempts: 2,
          backoffCoeficient: 2,
        } as never),
      (e) =>
        isDurableTaskError(e, 'INVALID_ARGUMENT') &&
        /'backoffCoeficient' \(did you mean 'backoffCoefficient'\?\)/.test(e.message),
    );
  });

  it('should fail an orchestration that passes call options with a misspelled name', async () => {
    const calls: Orchestrator[] = [
      function* (ctx) {
        return yield ctx.callActivity('Ok', null, { retyr: {} } as never);
      },
      function* (ctx) {
        return yield ctx.callSubOrchestration('Child', null, { instanceID: 'c' } as never);
      },
      function* (ctx) {
        return yield ctx.waitForExternalEvent('go', { timeout: 5 } as never);
      },
    ];
    const wanted = [
      /callActivity option 'retyr' \(did you mean 'retry'\?\)/,
      /callSubOrchestration option 'instanceID' \(did you mean 'instanceId'\?\)/,
      /waitForExternalEvent option 'timeout'/,
    ];
    for (const [i, fn] of calls.entries()) {
      const h = new EpisodeHarness({ orchestrators: { R: fn }, activities: { Ok: () => 1 } });
      const id = h.start('R', undefined);
      await h.run();
      const state = h.state(id);
      assert.equal(state.orchestrationStatus, 'Failed');
      assert.match(state.failureDetails?.errorMessage ?? '', wanted[i] as RegExp);
    }
  });

  it('should read null call options as none, as before they were checked', async () => {
    const fn: Orchestrator = function* (ctx) {
      const a: number = yield ctx.callActivity('Ok', null, null as never);
      const b: number = yield ctx.callSubOrchestration('Child', null, null as never);
      return a + b;
    };
    const child: Orchestrator = function* () {
      return 2;
    };
    const h = new EpisodeHarness({
      orchestrators: { R: fn, Child: child },
      activities: { Ok: () => 1 },
    });
    const id = h.start('R', undefined);
    await h.run();
    assert.equal(h.output(id), 3);
  });

  it('should grow delays by the coefficient up to the cap', () => {
    const p = new RetryPolicy({
      firstRetryIntervalMs: 1000,
      maxNumberOfAttempts: 5,
      backoffCoefficient: 10,
      maxRetryIntervalMs: 5000,
    });
    assert.deepEqual(
      [1, 2, 3].map((n) => p.delayAfter(n)),
      [1000, 5000, 5000],
    );
  });

  it('[53] should make N calls and N timers, the last zero-length, then rethrow', async () => {
    const N = 4;
    const fn: Orchestrator = function* (ctx) {
      try {
        yield ctx.callActivity('Fail', null, {
          retry: { firstRetryIntervalMs: 1000, maxNumberOfAttempts: N },
        });
      } catch (e) {
        return e instanceof TaskFailedError ? e.failureDetails.errorMessage : 'other';
      }
    };
    const h = new EpisodeHarness({ orchestrators: { R: fn }, activities: { Fail: alwaysFails } });
    const id = h.start('R', undefined);
    const t0 = h.now;
    await h.run();
    assert.equal(h.output(id), 'always fails');
    assert.equal(h.activityCalls.length, N);
    const timers = (h.histories.get(id) ?? []).filter((e) => e.type === 'TimerCreated');
    assert.equal(timers.length, N);
    const last = timers.at(-1);
    assert.equal(
      last?.type === 'TimerCreated' && Date.parse(last.fireAt),
      Date.parse(last?.timestamp ?? ''),
    );
    assert.ok(h.now - t0 >= (N - 1) * 1000);
    assert.ok(h.now - t0 < N * 1000);
  });

  it('[52] should succeed once an attempt succeeds', async () => {
    const fn: Orchestrator = function* (ctx) {
      return yield ctx.callActivity('Flaky', null, {
        retry: { firstRetryIntervalMs: 3000, maxNumberOfAttempts: 4 },
      });
    };
    const flaky = (_: unknown, attempt: number): number => {
      if (attempt <= 3) throw new Error(`attempt ${attempt}`);
      return attempt;
    };
    const h = new EpisodeHarness({ orchestrators: { R: fn }, activities: { Flaky: flaky } });
    const id = h.start('R', undefined);
    await h.run();
    assert.equal(h.output(id), 4);
  });

  it('[52] should give up when the retry timeout has passed', async () => {
    const fn: Orchestrator = function* (ctx) {
      try {
        yield ctx.callActivity('Fail', null, {
          retry: {
            firstRetryIntervalMs: 5000,
            maxNumberOfAttempts: 10,
            backoffCoefficient: 2,
            retryTimeoutMs: 10_000,
          },
        });
      } catch {
        return 'gave up';
      }
    };
    const h = new EpisodeHarness({ orchestrators: { R: fn }, activities: { Fail: alwaysFails } });
    const id = h.start('R', undefined);
    await h.run();
    assert.equal(h.output(id), 'gave up');
    assert.equal(h.activityCalls.length, 3);
  });

  it('[53] should stop when handle rejects the failure, calling it exactly once', async () => {
    let calls = 0;
    const fn: Orchestrator = function* (ctx) {
      try {
        yield ctx.callActivity('Fail', null, {
          retry: {
            firstRetryIntervalMs: 1000,
            maxNumberOfAttempts: 5,
            handle: (f) => {
              calls++;
              const d = (f as TaskFailedError).failureDetails;
              return d.innerFailure?.errorMessage === 'not this one';
            },
          },
        });
      } catch {
        return calls;
      }
    };
    const h = new EpisodeHarness({ orchestrators: { R: fn }, activities: { Fail: alwaysFails } });
    const id = h.start('R', undefined);
    await h.run();
    assert.equal(h.output(id), 1);
    assert.equal(h.activityCalls.length, 1);
  });

  it('[53] should rethrow a non-retriable failure without consulting handle', async () => {
    let consulted = false;
    const fn: Orchestrator = function* (ctx) {
      try {
        yield ctx.callActivity('Fatal', null, {
          retry: {
            firstRetryIntervalMs: 1000,
            maxNumberOfAttempts: 5,
            handle: () => (consulted = true),
          },
        });
      } catch (e) {
        return (e as TaskFailedError).failureDetails.isNonRetriable;
      }
    };
    const fatal = (): never => {
      throw Object.assign(new Error('fatal'), { isNonRetriable: true });
    };
    const h = new EpisodeHarness({ orchestrators: { R: fn }, activities: { Fatal: fatal } });
    const id = h.start('R', undefined);
    await h.run();
    assert.equal(h.output(id), true);
    assert.equal(consulted, false);
    assert.equal(h.activityCalls.length, 1);
  });
});
