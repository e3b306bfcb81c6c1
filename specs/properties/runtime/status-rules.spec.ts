import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isDurableTaskError } from '../../../src/core/errors.ts';
import { newEvent, type HistoryEvent } from '../../../src/core/history-event.ts';
import type { OrchestrationStatus } from '../../../src/core/orchestration-status.ts';
import { OrchestrationRuntimeState } from '../../../src/core/runtime-state.ts';
import { assertProperty, budget } from '../support/fc-budget.ts';

// The status a runtime state computes (by folding its events through the orchestration
// machine) equals the status the history rules of contract.md §0.3 give, written here
// on their own:
// 1. a TaskCompleted with eventId >= 0 whose id was seen is dropped;
// 2. a second ExecutionStarted is a corrupt history;
// 3. the first completion (ExecutionCompleted or ContinueAsNew) decides the status; later
//    ones are ignored, except that Terminated replaces ContinuedAsNew;
// 4. ExecutionSuspended gives Suspended, ExecutionResumed gives Running again;
// 5. otherwise Running.
// Where rule 4 meets a completion, design §3 / §9.19 decide (completed, failed and
// terminated executions are final): suspend and resume after a completion change nothing.
// The contract's literal rule 4 would show Suspended there; such histories do not occur,
// since batches for an ended execution are discarded before they reach its history.
// A state resumed from a fold (OrchestrationRuntimeState.resume) must equal one folded
// from the same events, whatever comes next.

type Token =
  | { readonly k: 'start' }
  | { readonly k: 'complete'; readonly status: 'Completed' | 'Failed' | 'Terminated' | 'Canceled' }
  | { readonly k: 'can' }
  | { readonly k: 'suspend' }
  | { readonly k: 'resume' }
  | { readonly k: 'task'; readonly id: number }
  | { readonly k: 'noise'; readonly type: 'OrchestratorStarted' | 'EventRaised' | 'TimerFired' };

const tokenArb: fc.Arbitrary<Token> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ k: 'start' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('complete' as const),
      status: fc.constantFrom(
        'Completed' as const,
        'Failed' as const,
        'Terminated' as const,
        'Canceled' as const,
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ k: 'can' as const }) },
  { weight: 3, arbitrary: fc.constant({ k: 'suspend' as const }) },
  { weight: 3, arbitrary: fc.constant({ k: 'resume' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('task' as const), id: fc.integer({ min: -1, max: 2 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('noise' as const),
      type: fc.constantFrom(
        'OrchestratorStarted' as const,
        'EventRaised' as const,
        'TimerFired' as const,
      ),
    }),
  },
);

/** Histories that usually start with ExecutionStarted, as stored ones do. */
const historyArb = fc
  .tuple(fc.boolean(), fc.array(tokenArb, { maxLength: 14 }))
  .map(([started, rest]) => (started ? [{ k: 'start' } as Token, ...rest] : rest));

function toEvent(t: Token, i: number): HistoryEvent {
  const at = Date.parse('2030-01-01T00:00:00.000Z') + i;
  switch (t.k) {
    case 'start':
      return newEvent(
        {
          type: 'ExecutionStarted',
          name: 'N',
          version: '',
          orchestrationInstance: { instanceId: 'i', executionId: `x${i}` },
        },
        at,
      );
    case 'complete':
      return newEvent(
        {
          type: 'ExecutionCompleted',
          eventId: i,
          orchestrationStatus: t.status,
          result: `"r${i}"`,
          ...(t.status === 'Failed'
            ? {
                failureDetails: { errorType: 'E', errorMessage: `m${i}`, isNonRetriable: false },
              }
            : {}),
        },
        at,
      );
    case 'can':
      return newEvent(
        {
          type: 'ContinueAsNew',
          eventId: i,
          orchestrationStatus: 'ContinuedAsNew',
          result: `"n${i}"`,
        },
        at,
      );
    case 'suspend':
      return newEvent({ type: 'ExecutionSuspended' }, at);
    case 'resume':
      return newEvent({ type: 'ExecutionResumed' }, at);
    case 'task':
      return newEvent({ type: 'TaskCompleted', eventId: t.id, taskScheduledId: 0 }, at);
    case 'noise':
      if (t.type === 'EventRaised') return newEvent({ type: 'EventRaised', name: 'e' }, at);
      if (t.type === 'TimerFired')
        return newEvent({ type: 'TimerFired', timerId: 0, fireAt: new Date(at).toISOString() }, at);
      return newEvent({ type: 'OrchestratorStarted' }, at);
  }
}

type Expected =
  | { readonly kind: 'corrupt' }
  | {
      readonly kind: 'ok';
      readonly started: boolean;
      readonly status: OrchestrationStatus;
      readonly kept: readonly HistoryEvent[];
      readonly completion: HistoryEvent | undefined;
    };

/** Contract.md §0.3, rule by rule (see the header). */
function rules(events: readonly HistoryEvent[]): Expected {
  let started = false;
  let status: OrchestrationStatus = 'Running';
  let completion: (HistoryEvent & { orchestrationStatus: OrchestrationStatus }) | undefined;
  const seenTasks = new Set<number>();
  const kept: HistoryEvent[] = [];
  for (const e of events) {
    if (e.type === 'TaskCompleted' && e.eventId >= 0) {
      if (seenTasks.has(e.eventId)) continue;
      seenTasks.add(e.eventId);
    }
    if (e.type === 'ExecutionStarted') {
      if (started) return { kind: 'corrupt' };
      started = true;
    }
    kept.push(e);
    if (e.type === 'ExecutionCompleted' || e.type === 'ContinueAsNew') {
      if (!completion) {
        completion = e;
        status = e.orchestrationStatus;
      } else if (
        completion.orchestrationStatus === 'ContinuedAsNew' &&
        e.orchestrationStatus === 'Terminated'
      ) {
        completion = e;
        status = 'Terminated';
      }
    } else if (e.type === 'ExecutionSuspended' && !completion) {
      status = 'Suspended';
    } else if (e.type === 'ExecutionResumed' && !completion) {
      status = 'Running';
    }
  }
  return { kind: 'ok', started, status, kept, completion };
}

function isCorrupt(err: unknown): boolean {
  return isDurableTaskError(err, 'CORRUPT_HISTORY');
}

function check(tokens: readonly Token[], incremental: boolean): void {
  const events = tokens.map(toEvent);
  const expected = rules(events);
  const build = (): OrchestrationRuntimeState => {
    if (!incremental) return new OrchestrationRuntimeState(events);
    const s = new OrchestrationRuntimeState();
    for (const e of events) s.addEvent(e);
    return s;
  };
  if (expected.kind === 'corrupt') {
    assert.throws(build, isCorrupt, 'a second ExecutionStarted must be refused');
    return;
  }
  const state = build();
  assert.deepEqual(incremental ? state.newEvents : state.pastEvents, expected.kept);
  if (!expected.started) {
    assert.throws(() => state.orchestrationStatus, isCorrupt);
    return;
  }
  assert.equal(state.orchestrationStatus, expected.status);
  assert.equal(state.executionCompletedEvent, expected.completion);
  const c = expected.completion;
  const output =
    c?.type === 'ExecutionCompleted' && c.failureDetails
      ? `${c.failureDetails.errorType}: ${c.failureDetails.errorMessage}`
      : c?.type === 'ExecutionCompleted' || c?.type === 'ContinueAsNew'
        ? c.result
        : undefined;
  assert.equal(state.output, output);
}

describe('runtime status rules', () => {
  it('should compute the status the contract 0.3 history rules give', async (t) => {
    await assertProperty(
      fc.property(historyArb, fc.boolean(), (tokens, incremental) => {
        check(tokens, incremental);
      }),
      budget(t, { ci: 2_000, long: 100_000 }),
    );
  });

  it('should give the same state resumed from a fold as folded from scratch', async (t) => {
    const split = fc.tuple(historyArb, fc.nat(), fc.boolean());
    await assertProperty(
      fc.property(split, ([tokens, cut, customStatus]) => {
        const events = tokens.map(toEvent);
        const k = cut % (events.length + 1);
        let prefix: OrchestrationRuntimeState;
        try {
          prefix = new OrchestrationRuntimeState(events.slice(0, k));
        } catch (err) {
          assert.ok(isCorrupt(err));
          return;
        }
        const status = customStatus ? '"s"' : undefined;
        const completions = new Set(
          prefix.pastEvents.flatMap((e) =>
            e.type === 'TaskCompleted' && e.eventId >= 0 ? [e.eventId] : [],
          ),
        );
        const folded = new OrchestrationRuntimeState(prefix.pastEvents, status);
        const resumed = OrchestrationRuntimeState.resume(
          [...prefix.pastEvents],
          prefix.foldOf(),
          completions,
          status,
        );
        const rest = events.slice(k);
        const outcome = (s: OrchestrationRuntimeState): unknown => {
          try {
            for (const e of rest) s.addEvent(e);
          } catch (err) {
            assert.ok(isCorrupt(err));
            return 'corrupt';
          }
          return {
            events: s.events,
            pastEvents: s.pastEvents,
            newEvents: s.newEvents,
            started: s.executionStartedEvent,
            completed: s.executionCompletedEvent,
            status: s.executionStartedEvent ? s.orchestrationStatus : undefined,
            output: s.output,
            valid: s.isValid,
            customStatus: s.customStatus,
          };
        };
        assert.deepEqual(outcome(resumed), outcome(folded));
      }),
      budget(t, { ci: 2_000, long: 100_000 }),
    );
  });
});
