import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isDurableTaskError, SessionAbortedError, TaskFailedError,
} from '../../../src/core/errors.ts';
import type { Orchestrator } from '../../../src/runtime/orchestration-context.ts';
import { OrchestrationExecutor } from '../../../src/runtime/orchestration-executor.ts';
import type { OrchestratorAction } from '../../../src/runtime/orchestrator-action.ts';
import {
  completed, failed, oc, os, raised, resumed, scheduled, started, subCreated, suspended, T0,
  terminated, timerCreated, timerFired,
} from './history-builder.ts';

function run(fn: Orchestrator, past: Parameters<OrchestrationExecutor['execute']>[0],
  fresh: Parameters<OrchestrationExecutor['execute']>[1]) {
  return new OrchestrationExecutor(fn).execute(past, fresh);
}

function kinds(actions: readonly OrchestratorAction[]): string[] {
  return actions.map((a) => `${a.kind}#${a.id}`);
}

const hello: Orchestrator<string, string> = function* (ctx, name) {
  const r: string = yield ctx.callActivity('SayHello', name);
  return r;
};

describe('OrchestrationExecutor', () => {
  it('should schedule the first activity on the start event', () => {
    const r = run(hello, [], [os(), started('Hello', 'World')]);
    assert.equal(r.actions.length, 1);
    const a = r.actions[0];
    assert.equal(a?.kind, 'scheduleTask');
    assert.equal(a?.kind === 'scheduleTask' && a.name, 'SayHello');
    assert.equal(a?.kind === 'scheduleTask' && a.input, '"World"');
    assert.equal(r.completion, undefined);
  });

  it('should complete with the activity result after replaying the schedule', () => {
    const past = [os(), started('Hello', 'World'), scheduled(0, 'SayHello'), oc()];
    const r = run(hello, past, [os(), completed(0, 'Hello, World!')]);
    assert.deepEqual(kinds(r.actions), ['completeOrchestration#1']);
    assert.equal(r.completion?.status, 'Completed');
    assert.equal(r.completion?.result, '"Hello, World!"');
  });

  it('should complete an inline orchestration at once, and one with no actions', () => {
    const inline: Orchestrator<string, string> = (_ctx, name) => `Hello, ${name}!`;
    const r = run(inline, [], [os(), started('Inline', 'World')]);
    assert.equal(r.completion?.result, '"Hello, World!"');
    assert.equal(r.completion?.id, 0);
    const empty: Orchestrator = function* () {};
    assert.equal(run(empty, [], [os(), started('Empty')]).completion?.status, 'Completed');
  });

  it('should fail an orchestrator that returns a Promise, with a clear message', () => {
    const asyncFn = (async () => 1) as unknown as Orchestrator;
    const r = run(asyncFn, [], [os(), started('Async')]);
    assert.equal(r.completion?.status, 'Failed');
    assert.match(r.completion?.failureDetails?.errorMessage ?? '', /generator functions/);
  });

  it('should throw a non-task yield back into the generator', () => {
    const bad: Orchestrator = function* () {
      try {
        yield 42 as never;
      } catch (e) {
        return (e as Error).message;
      }
    };
    const r = run(bad, [], [os(), started('Bad')]);
    assert.match(JSON.parse(r.completion?.result ?? '""'), /yielded a number/);
  });

  it('[12] isReplaying flips after the last replayed event', () => {
    const flags: boolean[][] = [];
    const fn: Orchestrator = function* (ctx) {
      const seen = [ctx.isReplaying];
      yield ctx.createTimer(0);
      seen.push(ctx.isReplaying);
      yield ctx.createTimer(0);
      seen.push(ctx.isReplaying);
      flags.push(seen);
      return seen;
    };
    const past = [os(), started('R'), timerCreated(0), oc(), os(), timerFired(0), timerCreated(1),
      oc()];
    const r = run(fn, past, [os(), timerFired(1)]);
    assert.deepEqual(JSON.parse(r.completion?.result ?? 'null'), [true, true, false]);
  });

  it('should take currentUtcDateTime from the latest OrchestratorStarted', () => {
    const times: number[] = [];
    const fn: Orchestrator = function* (ctx) {
      times.push(ctx.currentUtcDateTime.getTime());
      yield ctx.createTimer(5000);
      times.push(ctx.currentUtcDateTime.getTime());
    };
    const fireAt = new Date(T0 + 5000).toISOString();
    const past = [os(T0), started('T'), timerCreated(0, fireAt), oc()];
    const r = run(fn, past, [os(T0 + 7000), timerFired(0, fireAt)]);
    assert.deepEqual(times, [T0, T0 + 7000]);
    assert.equal(r.completion?.status, 'Completed');
  });

  it('should compute timer fire times from the episode time', () => {
    const fn: Orchestrator = function* (ctx) {
      yield ctx.createTimer(1500);
    };
    const r = run(fn, [], [os(T0), started('T')]);
    const a = r.actions[0];
    assert.equal(a?.kind === 'createTimer' && a.fireAt, new Date(T0 + 1500).toISOString());
  });

  describe('non-determinism', () => {
    function liveOnly(kind: 'timer' | 'activity' | 'sub'): Orchestrator {
      return function* (ctx) {
        yield ctx.callActivity('First');
        if (!ctx.isReplaying) {
          if (kind === 'timer') yield ctx.createTimer(0);
          if (kind === 'activity') yield ctx.callActivity('Second');
          if (kind === 'sub') yield ctx.callSubOrchestration('Child');
        }
        return 'done';
      };
    }

    const cases = [
      ['timer', timerCreated(1), /timer task/],
      ['activity', scheduled(1, 'Second'), /activity task named 'Second'/],
      ['sub', subCreated(1, 'Child', 'inst:0001'), /sub-orchestration task named 'Child'/],
    ] as const;
    for (const [kind, recorded, wording] of cases) {
      it(`[15] should fail the instance when a ${kind} was scheduled only live`, () => {
        const past = [os(), started('N'), scheduled(0, 'First'), oc(), os(), completed(0),
          recorded, oc()];
        const r = run(liveOnly(kind), past, [os(), completed(1)]);
        assert.equal(r.completion?.status, 'Failed');
        const d = r.completion?.failureDetails;
        assert.equal(d?.errorType, 'NonDeterminismError');
        assert.match(d?.errorMessage ?? '', wording);
        assert.match(d?.errorMessage ?? '', /code changed after this instance started/);
        assert.deepEqual(kinds(r.actions), ['completeOrchestration#1']);
      });
    }

    it('[15] should name both kinds when the kind at a sequence number changed', () => {
      const fn: Orchestrator = function* (ctx) {
        yield ctx.callActivity('Work');
      };
      const r = run(fn, [os(), started('N'), timerCreated(0), oc()], [os(), timerFired(0)]);
      assert.match(r.completion?.failureDetails?.errorMessage ?? '',
        /records a timer task .* scheduled a activity task named 'Work'/);
    });

    it('[16] should name the expected and the found activity name', () => {
      const fn: Orchestrator = function* (ctx) {
        yield ctx.callActivity('NewName');
      };
      const r = run(fn, [os(), started('N'), scheduled(0, 'OldName'), oc()], [os(), completed(0)]);
      assert.equal(r.completion?.status, 'Failed');
      assert.match(r.completion?.failureDetails?.errorMessage ?? '',
        /expected 'OldName', found 'NewName'/);
    });

    it('[16] should name the sub-orchestration when its name changed', () => {
      const fn: Orchestrator = function* (ctx) {
        yield ctx.callSubOrchestration('ChildB');
      };
      const r = run(fn, [os(), started('N'), subCreated(0, 'ChildA', 'inst:0000'), oc()], [os()]);
      assert.match(r.completion?.failureDetails?.errorMessage ?? '',
        /sub-orchestration task named 'ChildA'.*expected 'ChildA', found 'ChildB'/);
    });

    it('should compare names case-insensitively and accept the split timer -100', () => {
      const fn: Orchestrator = function* (ctx) {
        return yield ctx.callActivity('sayhello');
      };
      const past = [os(), started('N'), scheduled(0, 'SayHello'), timerCreated(-100), oc()];
      const r = run(fn, past, [os(), timerFired(-100), completed(0, 'x')]);
      assert.equal(r.completion?.status, 'Completed');
    });
  });

  describe('completion rules', () => {
    it('[18] should keep running while an un-cancelled timer is pending', () => {
      const fn: Orchestrator = function* (ctx) {
        ctx.createTimer(10_000);
        return 'returned';
      };
      const first = run(fn, [], [os(), started('P')]);
      assert.deepEqual(kinds(first.actions), ['createTimer#0']);
      assert.equal(first.completion, undefined);
      const past = [os(), started('P'), timerCreated(0), oc()];
      const second = run(fn, past, [os(), timerFired(0)]);
      assert.equal(second.completion?.result, '"returned"');
    });

    it('should complete at once when the pending timer was cancelled', () => {
      const fn: Orchestrator = function* (ctx) {
        ctx.createTimer(10_000).cancel();
        return 'done';
      };
      const r = run(fn, [], [os(), started('P')]);
      assert.deepEqual(kinds(r.actions), ['createTimer#0', 'completeOrchestration#1']);
    });

    it('should ignore results for unknown and already resolved tasks', () => {
      const past = [os(), started('Hello', 'W'), scheduled(0, 'SayHello'), oc()];
      const r = run(hello, past, [os(), completed(7, 'x'), completed(0, 'a'), completed(0, 'b')]);
      assert.equal(r.completion?.result, '"a"');
    });
  });

  describe('failures', () => {
    it('should throw TaskFailedError with failure details into the orchestrator', () => {
      let caught: unknown;
      const fn: Orchestrator = function* (ctx) {
        try {
          yield ctx.callActivity('Boom');
        } catch (e) {
          caught = e;
          return 'handled';
        }
      };
      const past = [os(), started('F'), scheduled(0, 'Boom'), oc()];
      const r = run(fn, past, [os(), failed(0, 'Kah-BOOOOM!!!')]);
      assert.equal(r.completion?.result, '"handled"');
      assert.ok(caught instanceof TaskFailedError);
      assert.equal(caught.failureDetails.errorMessage, 'Kah-BOOOOM!!!');
      assert.equal(caught.taskScheduledId, 0);
    });

    it('should fail the instance on an uncaught activity failure, keeping the inner failure',
      () => {
      const past = [os(), started('Hello', 'W'), scheduled(0, 'SayHello'), oc()];
      const r = run(hello, past, [os(), failed(0, 'Kah-BOOOOM!!!')]);
      const d = r.completion?.failureDetails;
      assert.equal(r.completion?.status, 'Failed');
      assert.equal(d?.errorType, 'TaskFailedError');
      assert.match(d?.errorMessage ?? '', /'SayHello' \(#0\).*Kah-BOOOOM!!!/);
      assert.equal(d?.innerFailure?.errorMessage, 'Kah-BOOOOM!!!');
    });

    it('should fail the instance on an uncaught orchestrator error', () => {
      const fn: Orchestrator = function* () {
        throw new TypeError('input must not be null');
      };
      const r = run(fn, [], [os(), started('F')]);
      assert.equal(r.completion?.failureDetails?.errorType, 'TypeError');
      assert.equal(r.completion?.failureDetails?.errorMessage, 'input must not be null');
    });

    it('F13 should bound a huge error message', () => {
      const fn: Orchestrator = function* () {
        throw new Error('x'.repeat(2 * 1024 * 1024));
      };
      const r = run(fn, [], [os(), started('F')]);
      const msg = r.completion?.failureDetails?.errorMessage ?? '';
      assert.ok(msg.length < 100_000);
      assert.match(msg, /truncated/);
    });

    it('should fail with NOT_SERIALIZABLE when the output cannot be serialized', () => {
      const fn: Orchestrator = () => ({ f: () => 1 });
      const r = run(fn, [], [os(), started('F')]);
      assert.match(r.completion?.failureDetails?.errorMessage ?? '', /\$\.f is a function/);
    });

    it('should rethrow a session-aborted error instead of failing the instance', () => {
      const fn: Orchestrator = function* () {
        throw new SessionAbortedError();
      };
      assert.throws(() => run(fn, [], [os(), started('S')]),
        (e) => isDurableTaskError(e, 'SESSION_ABORTED'));
    });
  });

  describe('external events', () => {
    it('[27] should buffer events until awaited and deliver them in order', () => {
      const fn: Orchestrator = function* (ctx) {
        const got: unknown[] = [];
        for (let i = 0; i < 10; i++) got.push(yield ctx.waitForExternalEvent('MyEvent'));
        return got;
      };
      const evs = Array.from({ length: 10 }, (_, i) => raised('MyEvent', i));
      const r = run(fn, [], [os(), ...evs.slice(0, 3), started('E'), ...evs.slice(3)]);
      assert.deepEqual(JSON.parse(r.completion?.result ?? '[]'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('should match event names case-insensitively', () => {
      const fn: Orchestrator = function* (ctx) {
        return yield ctx.waitForExternalEvent('approval');
      };
      const r = run(fn, [], [os(), started('E'), raised('Approval', true)]);
      assert.equal(r.completion?.result, 'true');
    });

    it('[28] should fail with a timeout when the event does not come in time', () => {
      const fn: Orchestrator = function* (ctx) {
        return yield ctx.waitForExternalEvent('MyEvent', { timeoutMs: 2000 });
      };
      const first = run(fn, [], [os(), started('E')]);
      assert.deepEqual(kinds(first.actions), ['createTimer#0']);
      const past = [os(), started('E'), timerCreated(0), oc()];
      const r = run(fn, past, [os(), timerFired(0)]);
      assert.equal(r.completion?.status, 'Failed');
      assert.equal(r.completion?.failureDetails?.errorType, 'ExternalEventTimeoutError');
      assert.match(r.completion?.failureDetails?.errorMessage ?? '', /2000 ms.*'MyEvent'/);
    });

    it('[28] should complete and cancel the timeout timer when the event comes', () => {
      const fn: Orchestrator = function* (ctx) {
        return yield ctx.waitForExternalEvent('MyEvent', { timeoutMs: 2000 });
      };
      const past = [os(), started('E'), timerCreated(0), oc()];
      const r = run(fn, past, [os(), raised('MyEvent', 'yes')]);
      assert.equal(r.completion?.result, '"yes"');
    });
  });

  describe('composites', () => {
    it('F3 should complete whenAll([]) at once with []', () => {
      const fn: Orchestrator = function* (ctx) {
        return yield ctx.whenAll([]);
      };
      assert.equal(run(fn, [], [os(), started('C')]).completion?.result, '[]');
    });

    it('F3 should reject whenAny([]) at the call', () => {
      const fn: Orchestrator = function* (ctx) {
        try {
          ctx.whenAny([]);
        } catch (e) {
          return isDurableTaskError(e, 'INVALID_ARGUMENT') ? (e as Error).message : 'other';
        }
      };
      assert.match(run(fn, [], [os(), started('C')]).completion?.result ?? '', /at least one task/);
    });

    it('should return whenAll results in task order, not arrival order', () => {
      const fn: Orchestrator = function* (ctx) {
        return yield ctx.whenAll([ctx.callActivity('A'), ctx.callActivity('B'),
          ctx.callActivity('C')]);
      };
      const past = [os(), started('C'), scheduled(0, 'A'), scheduled(1, 'B'), scheduled(2, 'C'),
        oc()];
      const r = run(fn, past, [os(), completed(2, 'c'), completed(0, 'a'), completed(1, 'b')]);
      assert.equal(r.completion?.result, '["a","b","c"]');
    });

    it('F4 should fail whenAll with the first failure and ignore late completions', () => {
      const fn: Orchestrator = function* (ctx) {
        try {
          yield ctx.whenAll([ctx.callActivity('A'), ctx.callActivity('B'), ctx.callActivity('C')]);
          return 'no';
        } catch (e) {
          return (e as TaskFailedError).failureDetails.errorMessage;
        }
      };
      const past = [os(), started('C'), scheduled(0, 'A'), scheduled(1, 'B'), scheduled(2, 'C'),
        oc()];
      const mid = run(fn, past,
        [os(), completed(0, 'a'), failed(1, 'B broke'), failed(2, 'C broke')]);
      assert.equal(mid.completion?.result, '"B broke"');
      const later = run(fn, past, [os(), failed(1, 'B broke')]);
      assert.equal(later.completion, undefined, 'open tasks keep it running');
      const past2 = [...past, os(), failed(1, 'B broke'), oc()];
      const last = run(fn, past2, [os(), completed(0, 'a'), completed(2, 'c')]);
      assert.equal(last.completion?.result, '"B broke"');
    });

    it('should resolve whenAny with the first task to finish in history order', () => {
      const fn: Orchestrator = function* (ctx) {
        const a = ctx.callActivity('A');
        const b = ctx.callActivity('B');
        const winner = yield ctx.whenAny([a, b]);
        return winner === b ? 'b' : 'a';
      };
      const past = [os(), started('C'), scheduled(0, 'A'), scheduled(1, 'B'), oc()];
      const r = run(fn, past, [os(), completed(1), completed(0)]);
      assert.equal(r.completion?.result, '"b"');
    });

    it('F5 should let a nested whenAll win a whenAny against a far timer', () => {
      const fn: Orchestrator = function* (ctx) {
        const both = ctx.whenAll([ctx.waitForExternalEvent('A'), ctx.waitForExternalEvent('B')]);
        const timer = ctx.createTimer(3600_000);
        const winner = yield ctx.whenAny([both, timer]);
        if (winner === both) timer.cancel();
        return winner === both ? both.result : 'timeout';
      };
      const past = [os(), started('C'), timerCreated(0), oc()];
      const r = run(fn, past, [os(), raised('B', 2), raised('A', 1)]);
      assert.equal(r.completion?.result, '[1,2]');
    });

    it('F7 should let an event beat a 7-day timer', () => {
      const fn: Orchestrator = function* (ctx) {
        const timer = ctx.createTimer(7 * 24 * 3600_000);
        const go = ctx.waitForExternalEvent('go');
        const winner = yield ctx.whenAny([timer, go]);
        timer.cancel();
        return winner === go ? 'event' : 'timer';
      };
      const r = run(fn, [os(), started('C'), timerCreated(0), oc()], [os(), raised('go')]);
      assert.equal(r.completion?.result, '"event"');
    });
  });

  describe('sub-orchestrations and ids', () => {
    it('should derive the default child id from the instance id and the action id', () => {
      const fn: Orchestrator = function* (ctx) {
        yield ctx.callActivity('A');
        yield ctx.callSubOrchestration('Child');
      };
      const past = [os(), started('P', undefined, { instanceId: 'order-7' }), scheduled(0, 'A'),
        oc()];
      const r = run(fn, past, [os(), completed(0)]);
      const a = r.actions[0];
      assert.equal(a?.kind === 'createSubOrchestration' && a.instanceId, 'order-7:0001');
    });

    it('should not wait for a fire-and-forget child', () => {
      const fn: Orchestrator = function* (ctx) {
        const id: string = yield ctx.startSubOrchestration('Child', 1, { instanceId: 'kid' });
        return id;
      };
      const r = run(fn, [], [os(), started('P')]);
      assert.deepEqual(kinds(r.actions), ['createSubOrchestration#0', 'completeOrchestration#1']);
      assert.equal(r.completion?.result, '"kid"');
      const a = r.actions[0];
      assert.equal(a?.kind === 'createSubOrchestration' && a.fireAndForget, true);
    });

    it('should make the same guids on replay and different ones per call', () => {
      const seen: string[][] = [];
      const fn: Orchestrator = function* (ctx) {
        const ids = [ctx.newGuid(), ctx.newGuid()];
        seen.push(ids);
        yield ctx.createTimer(0);
        return ids;
      };
      run(fn, [], [os(), started('G')]);
      run(fn, [os(), started('G'), timerCreated(0), oc()], [os(), timerFired(0)]);
      assert.deepEqual(seen[0], seen[1]);
      assert.notEqual(seen[0]?.[0], seen[0]?.[1]);
      assert.match(seen[0]?.[0] ?? '',
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });
  });

  describe('suspend, resume and terminate', () => {
    const waiter: Orchestrator = function* (ctx) {
      ctx.setCustomStatus('waiting');
      const v = yield ctx.waitForExternalEvent('Go');
      ctx.setCustomStatus(`got ${String(v)}`);
      return yield ctx.callActivity('After', v);
    };

    it('[56] should hold events and decisions while suspended and release them on resume', () => {
      const held = run(waiter, [os(), started('S'), oc()], [os(), suspended(), raised('Go', 1)]);
      assert.deepEqual(held.actions, []);
      assert.equal(held.isSuspended, true);
      assert.equal(held.customStatus, '"waiting"');
      const past = [os(), started('S'), oc(), os(), suspended(), raised('Go', 1), oc()];
      const released = run(waiter, past, [os(), resumed()]);
      assert.deepEqual(kinds(released.actions), ['scheduleTask#0']);
      assert.equal(released.customStatus, '"got 1"');
    });

    it('should withhold decisions made before the suspend event of the same batch', () => {
      const r = run(waiter, [os(), started('S'), oc()], [os(), raised('Go', 1), suspended()]);
      assert.deepEqual(r.actions, []);
      const past = [os(), started('S'), oc(), os(), raised('Go', 1), suspended(), oc()];
      const later = run(waiter, past, [os(), resumed()]);
      assert.deepEqual(kinds(later.actions), ['scheduleTask#0']);
      const replayed = [...past, os(), resumed(), scheduled(0, 'After'), oc()];
      const done = run(waiter, replayed, [os(), completed(0, 'ok')]);
      assert.equal(done.completion?.result, '"ok"');
    });

    it('[57] should terminate a suspended instance with the reason as result', () => {
      const past = [os(), started('S'), oc(), os(), suspended(), oc()];
      const r = run(waiter, past, [os(), terminated('sayōnara')]);
      assert.equal(r.completion?.status, 'Terminated');
      assert.equal(r.completion?.result, '"sayōnara"');
    });

    it('should run finally blocks on terminate, scheduling nothing from them', () => {
      const log: string[] = [];
      const fn: Orchestrator = function* (ctx) {
        try {
          yield ctx.waitForExternalEvent('never');
        } finally {
          log.push('cleanup');
          try {
            ctx.callActivity('Undo');
          } catch (err) {
            log.push((err as { code?: string }).code ?? String(err));
          }
          ctx.continueAsNew('again');
        }
      };
      const r = run(fn, [os(), started('S'), oc()], [os(), terminated('stop')]);
      assert.deepEqual(log, ['cleanup', 'INVALID_STATE']);
      assert.deepEqual(kinds(r.actions), ['completeOrchestration#0']);
      assert.equal(r.completion?.status, 'Terminated');
    });

    it('should end a finally that yields or throws after terminate, and still terminate', () => {
      let yields = 0;
      const yielding: Orchestrator = function* (ctx) {
        try {
          yield ctx.waitForExternalEvent('never');
        } finally {
          for (;;) {
            yields++;
            yield ctx.waitForExternalEvent('more');
          }
        }
      };
      const r = run(yielding, [os(), started('S'), oc()], [os(), terminated('stop')]);
      assert.equal(r.completion?.status, 'Terminated');
      assert.ok(yields >= 1 && yields <= 100, `finally ran ${yields} times`);
      const throwing: Orchestrator = function* (ctx) {
        try {
          yield ctx.createTimer(60_000);
        } finally {
          yield ctx.createTimer(1);
        }
      };
      const t = run(throwing, [os(), started('S'), timerCreated(0), oc()],
        [os(), terminated('stop')]);
      assert.deepEqual(kinds(t.actions), ['completeOrchestration#1']);
      assert.equal(t.completion?.result, '"stop"');
    });

    it('should drop a continue-as-new and new decisions once terminated', () => {
      const fn: Orchestrator = function* (ctx) {
        yield ctx.waitForExternalEvent('x');
        ctx.continueAsNew(1);
        yield ctx.callActivity('A');
      };
      const r = run(fn, [os(), started('S'), oc()], [os(), raised('x'), terminated('stop')]);
      assert.deepEqual(kinds(r.actions), ['completeOrchestration#1']);
      assert.equal(r.completion?.status, 'Terminated');
    });
  });

  describe('continue-as-new', () => {
    it('should let the last call win and carry over events processed after it', () => {
      const fn: Orchestrator = function* (ctx, n: number) {
        yield ctx.waitForExternalEvent('MyEvent');
        ctx.continueAsNew(n);
        ctx.continueAsNew(n + 1);
        return 'ignored';
      };
      const r = run(fn, [os(), started('C', 0), oc()],
        [os(), raised('MyEvent', 'a'), raised('MyEvent', 'b'), raised('Other', 'c')]);
      assert.equal(r.completion?.status, 'ContinuedAsNew');
      assert.equal(r.completion?.result, '1');
      assert.deepEqual(r.completion?.carryoverEvents?.map((e) => e.input), ['"b"', '"c"']);
    });

    it('should deliver later events to the finishing execution when not preserving them', () => {
      const fn: Orchestrator = function* (ctx) {
        yield ctx.waitForExternalEvent('MyEvent');
        ctx.continueAsNew(1, { preserveUnprocessedEvents: false });
      };
      const r = run(fn, [os(), started('C'), oc()], [os(), raised('MyEvent', 'a'),
        raised('MyEvent', 'b')]);
      assert.deepEqual(r.completion?.carryoverEvents, []);
    });

    it('should let a failure beat continue-as-new', () => {
      const fn: Orchestrator = function* (ctx) {
        ctx.continueAsNew(1);
        throw new Error('late failure');
      };
      assert.equal(run(fn, [], [os(), started('C')]).completion?.status, 'Failed');
    });
  });
});
