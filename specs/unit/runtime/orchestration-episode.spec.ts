import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEvent, type HistoryEvent } from '../../../src/core/history-event.ts';
import { OrchestrationRuntimeState } from '../../../src/core/runtime-state.ts';
import { taskMessage, type TaskMessage } from '../../../src/core/task-message.ts';
import { applyDecision, emptyMessages } from '../../../src/runtime/apply-decisions.ts';
import type { Orchestrator } from '../../../src/runtime/orchestration-context.ts';
import { nextExecution } from '../../../src/runtime/orchestration-episode.ts';
import { reconcileMessages } from '../../../src/runtime/reconcile-messages.ts';
import { ensureExecutionStartedIsFirst } from '../../../src/runtime/start-event-ordering.ts';
import { EpisodeHarness } from './episode-harness.ts';
import { os, raised, started, T0 } from './history-builder.ts';

function msg(event: HistoryEvent, executionId?: string): TaskMessage {
  return taskMessage(event, { instanceId: 'inst', executionId });
}

function startMsg(executionId: string): TaskMessage {
  return msg(started('X', undefined, { executionId }), executionId);
}

/** Strips times so that two runs can be compared event by event. */
function shape(events: readonly HistoryEvent[]): unknown[] {
  return events.map((e) => {
    const { timestamp: _t, ...rest } = e as HistoryEvent & Record<string, unknown>;
    if ('orchestrationInstance' in rest) delete rest['orchestrationInstance'];
    if ('fireAt' in rest) delete rest['fireAt'];
    return rest;
  });
}

const fanOut: Orchestrator<number, number> = function* (ctx, n) {
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(ctx.callActivity<number>('Index', i));
  const results: number[] = yield ctx.whenAll(tasks);
  return results.reduce((a, b) => a + b, 0);
};

describe('start-event ordering', () => {
  it('should pull a top-level start in front of client messages', () => {
    const r1 = msg(raised('a')), r2 = msg(raised('b')), s = startMsg('X');
    assert.deepEqual(ensureExecutionStartedIsFirst([r1, r2, s]), [s, r1, r2]);
    const timer = msg(newEvent({ type: 'TimerFired', timerId: 0, fireAt: '' }), 'old');
    assert.deepEqual(ensureExecutionStartedIsFirst([timer, r1, s]), [timer, s, r1]);
    const y = msg(raised('y'), 'Y');
    assert.deepEqual(ensureExecutionStartedIsFirst([y, s]), [y, s]);
    const x = msg(raised('x'), 'X');
    assert.deepEqual(ensureExecutionStartedIsFirst([x, s]), [s, x]);
  });
});

describe('reconcileMessages', () => {
  it('should discard a batch for a new instance that does not begin with its start', () => {
    const state = new OrchestrationRuntimeState();
    state.addEvent(os());
    const r = reconcileMessages(state, [msg(raised('a')), startMsg('X')]);
    assert.equal(r.kind, 'discarded');
  });

  it('should skip a duplicate start and messages for another execution', () => {
    const state = new OrchestrationRuntimeState([os(), started('X', undefined,
      { executionId: 'X' })]);
    state.addEvent(os());
    const r = reconcileMessages(state, [startMsg('X'), msg(raised('old'), 'OLD'),
      msg(raised('ok'))]);
    assert.equal(r.kind, 'applied');
    assert.equal(r.kind === 'applied' && r.skipped.length, 2);
    assert.deepEqual(state.newEvents.map((e) => e.type), ['OrchestratorStarted', 'EventRaised']);
  });

  it('should discard a batch for an execution that already ended', () => {
    const state = new OrchestrationRuntimeState([os(), started('X'),
      newEvent({ type: 'ExecutionCompleted', orchestrationStatus: 'Completed' })]);
    state.addEvent(os());
    assert.equal(reconcileMessages(state, [msg(raised('late'))]).kind, 'discarded');
  });
});

describe('applyDecision', () => {
  const parentStart = started('Parent', 1, { instanceId: 'p', executionId: 'pe',
    tags: { t: 'v' } });

  it('[83] should refuse a second start, keep the first completion, and judge validity', () => {
    assert.equal(new OrchestrationRuntimeState().isValid, true, 'an empty history is valid');
    assert.equal(new OrchestrationRuntimeState([os(), raised('x')]).isValid, false,
      'events without a start are an invalid history');
    const state = new OrchestrationRuntimeState([os(), started('X', 'in')]);
    assert.throws(() => state.addEvent(started('X', 'again')),
      (err: unknown) => (err as { code?: string }).code === 'CORRUPT_HISTORY');
    state.addEvent(newEvent({ type: 'ExecutionCompleted', eventId: 0,
      orchestrationStatus: 'Completed', result: '"first"' }, T0));
    state.addEvent(newEvent({ type: 'ExecutionCompleted', eventId: 1,
      orchestrationStatus: 'Failed', result: '"second"' }, T0));
    assert.equal(state.orchestrationStatus, 'Completed');
    assert.equal(state.output, '"first"');
    assert.equal(state.isValid, true);
  });

  it('[83] should turn timers into TimerCreated events and due TimerFired messages', () => {
    const state = new OrchestrationRuntimeState([os(), parentStart]);
    const out = emptyMessages();
    const fireAt = new Date(T0 + 1000).toISOString();
    for (const id of [1, 2, 3]) {
      applyDecision({ kind: 'createTimer', id, fireAt }, state, out, { now: T0,
        newExecutionId: () => 'n' });
    }
    assert.deepEqual(state.newEvents.map((e) => e.eventId), [1, 2, 3]);
    assert.deepEqual(out.timerMessages.map((m) => m.event.type === 'TimerFired'
      && m.event.timerId), [1, 2, 3]);
    assert.ok(out.timerMessages.every((m) => m.event.type === 'TimerFired'
      && m.event.fireAt === fireAt));
    assert.ok(out.timerMessages.every((m) => m.orchestrationInstance.executionId === 'pe'));
  });

  it('[83] should schedule tasks, children and events with their messages', () => {
    const state = new OrchestrationRuntimeState([os(), parentStart]);
    const out = emptyMessages();
    const ctx = { now: T0, newExecutionId: () => 'child-exec' };
    applyDecision({ kind: 'scheduleTask', id: 0, name: 'A', version: '', input: '1' }, state, out,
      ctx);
    applyDecision({ kind: 'createSubOrchestration', id: 1, name: 'C', version: '', instanceId: 'c',
      input: '2', tags: { t: 'child' }, fireAndForget: false }, state, out, ctx);
    applyDecision({ kind: 'sendEvent', id: 2, instanceId: 'other', name: 'E', input: '3' }, state,
      out, ctx);
    assert.deepEqual(state.newEvents.map((e) => `${e.type}#${e.eventId}`),
      ['TaskScheduled#0', 'SubOrchestrationInstanceCreated#1', 'EventSent#2']);
    const activity = out.activityMessages[0];
    assert.equal(activity?.event.type === 'TaskScheduled' && activity.event.input, '1');
    assert.deepEqual(activity?.orchestrationInstance, { instanceId: 'p', executionId: 'pe' });
    assert.deepEqual(activity?.orchestrationExecutionContext?.orchestrationTags, { t: 'v' });
    const [child, event] = out.orchestratorMessages;
    assert.equal(child?.event.type, 'ExecutionStarted');
    if (child?.event.type === 'ExecutionStarted') {
      assert.deepEqual(child.event.orchestrationInstance, { instanceId: 'c',
        executionId: 'child-exec' });
      assert.equal(child.event.parentInstance?.taskScheduleId, 1);
      assert.deepEqual(child.event.parentInstance?.orchestrationInstance, { instanceId: 'p',
        executionId: 'pe' });
      assert.deepEqual(child.event.tags, { t: 'child' });
    }
    assert.deepEqual(event?.orchestrationInstance, { instanceId: 'other' });
    assert.equal(event?.event.type, 'EventRaised');
  });

  it('[83] should start the next execution with the carried events and no messages', () => {
    const state = new OrchestrationRuntimeState([os(), parentStart]);
    const out = emptyMessages();
    const carried = [newEvent({ type: 'EventRaised', name: 'e', input: '5' })];
    const action = { kind: 'completeOrchestration', id: 0, status: 'ContinuedAsNew', result: '2',
      carryoverEvents: carried } as const;
    applyDecision(action, state, out, { now: T0, newExecutionId: () => 'n' });
    assert.equal(state.orchestrationStatus, 'ContinuedAsNew');
    const next = nextExecution(state, action, { now: () => T0, newExecutionId: () => 'next' });
    assert.deepEqual(next.newEvents.map((e) => e.type),
      ['OrchestratorStarted', 'ExecutionStarted', 'EventRaised']);
    assert.equal(next.name, 'Parent');
    assert.equal(next.input, '2');
    assert.equal(next.orchestrationInstance?.executionId, 'next');
    assert.equal(next.orchestrationStatus, 'Running');
    assert.equal(out.activityMessages.length + out.orchestratorMessages.length +
      out.timerMessages.length, 0);
  });
});

describe('runEpisode', () => {
  it('[17] should split a 200-way fan-out at 80 messages and still sum to 19900', async () => {
    const h = new EpisodeHarness({ orchestrators: { F: fanOut },
      activities: { Index: (i: number) => i },
      maxMessages: 80 });
    const id = h.start('F', 200);
    await h.run();
    assert.equal(h.state(id).orchestrationStatus, 'Completed');
    assert.equal(h.output(id), 19900);
    assert.ok(h.outcomes.some((o) => o.interrupted));
    const history = h.histories.get(id) ?? [];
    assert.ok(history.some((e) => e.type === 'TimerCreated' && e.eventId === -100));
    assert.equal(h.count(id, 'TaskScheduled'), 200);
    assert.equal(h.count(id, 'TaskCompleted'), 200);
  });

  it('should record the same history with and without cached executors', async () => {
    const orch: Orchestrator<number, unknown> = function* (ctx, n) {
      const a: number = yield ctx.callActivity('Index', n);
      yield ctx.createTimer(1000);
      const both: number[] = yield ctx.whenAll([ctx.callActivity('Index', 1),
        ctx.callActivity('Index', 2)]);
      const e: unknown = yield ctx.waitForExternalEvent('go');
      return [a, both, e, ctx.newGuid()];
    };
    const results: unknown[][] = [];
    for (const cacheExecutors of [false, true]) {
      const h = new EpisodeHarness({ orchestrators: { O: orch },
        activities: { Index: (i: number) => i },
        cacheExecutors });
      const id = h.start('O', 5, 'same');
      h.raise(id, 'go', 'yes');
      await h.run();
      assert.equal(h.state(id).orchestrationStatus, 'Completed');
      results.push([shape(h.histories.get(id) ?? []), h.output(id)]);
      if (cacheExecutors) assert.ok(h.executorRuns.some((r) => !r.fresh));
    }
    assert.deepEqual(results[0], results[1]);
  });

  it('[14] should never replay with cached executors', async () => {
    const factorial: Orchestrator<number, number> = function* (ctx, n) {
      let r = 1;
      for (let i = 1; i <= n; i++) {
        if (ctx.isReplaying) throw new Error('replayed');
        r = yield ctx.callActivity('Multiply', [r, i]);
      }
      return r;
    };
    const h = new EpisodeHarness({ orchestrators: { F: factorial },
      activities: { Multiply: ([a, b]: [number, number]) => a * b }, cacheExecutors: true });
    const id = h.start('F', 10);
    await h.run();
    assert.equal(h.output(id), 3628800);
  });

  it('[12] should report replay flags [true, true, false] without cached executors', async () => {
    const fn: Orchestrator = function* (ctx) {
      const seen = [ctx.isReplaying];
      yield ctx.createTimer(0);
      seen.push(ctx.isReplaying);
      yield ctx.createTimer(0);
      seen.push(ctx.isReplaying);
      return seen;
    };
    const h = new EpisodeHarness({ orchestrators: { R: fn } });
    const id = h.start('R', undefined);
    await h.run();
    assert.deepEqual(h.output(id), [true, true, false]);
  });

  it('[35] should carry unprocessed events into the next generations', async () => {
    const gen: Orchestrator<number, number | undefined> = function* (ctx, n) {
      const done: boolean = yield ctx.waitForExternalEvent('MyEvent');
      if (done) return n;
      ctx.continueAsNew(n + 1);
    };
    const h = new EpisodeHarness({ orchestrators: { G: gen } });
    const id = h.start('G', 0);
    await h.run();
    for (let i = 0; i < 10; i++) h.raise(id, 'MyEvent', false);
    h.raise(id, 'MyEvent', true);
    await h.run();
    assert.equal(h.output(id), 10);
    assert.equal(h.state(id).input, '10');
  });

  it('[36] should lose events that come after the last generation completed', async () => {
    const gen: Orchestrator<number, string | undefined> = function* (ctx, n) {
      yield ctx.waitForExternalEvent('signal');
      if (n >= 5) return String(n);
      ctx.continueAsNew(n + 1);
    };
    const h = new EpisodeHarness({ orchestrators: { G: gen } });
    const id = h.start('G', 1);
    await h.run();
    for (let i = 0; i < 8; i++) h.raise(id, 'signal', i);
    await h.run();
    assert.equal(h.output(id), '5');
  });

  it('should run a tight continue-as-new loop in bounded episodes', async () => {
    const loop: Orchestrator<number, number | undefined> = function* (ctx, n) {
      if (n >= 50) return n;
      ctx.continueAsNew(n + 1);
    };
    const h = new EpisodeHarness({ orchestrators: { L: loop } });
    const id = h.start('L', 0);
    await h.run();
    assert.equal(h.output(id), 50);
    assert.ok(h.outcomes.length >= 3);
  });

  it('should report to the parent and let the parent catch a child failure', async () => {
    const child: Orchestrator<string, string> = function* (_ctx, input) {
      if (input === 'bad') throw new Error('Test');
      return `Child '${input}' completed.`;
    };
    const parent: Orchestrator = function* (ctx) {
      const ok: string = yield ctx.callSubOrchestration('Child', 'a');
      try {
        yield ctx.callSubOrchestration('Child', 'bad');
      } catch (e) {
        const details = (e as { failureDetails: { errorMessage: string } }).failureDetails;
        const inner = details.errorMessage;
        return `${ok} / ${inner}`;
      }
    };
    const h = new EpisodeHarness({ orchestrators: { Child: child, Parent: parent } });
    const id = h.start('Parent', undefined, 'parent');
    await h.run();
    assert.equal(h.output(id), "Child 'a' completed. / Test");
    assert.equal(h.state('parent:0001').orchestrationStatus, 'Failed');
  });

  it('[56] should hold an event raised while suspended until resume', async () => {
    const fn: Orchestrator = function* (ctx) {
      const v = yield ctx.waitForExternalEvent('Go');
      ctx.setCustomStatus(v);
      return v;
    };
    const h = new EpisodeHarness({ orchestrators: { S: fn } });
    const id = h.start('S', undefined);
    await h.run();
    h.send(id, newEvent({ type: 'ExecutionSuspended', reason: 'pause' }));
    h.raise(id, 'Go', 'later');
    await h.run();
    assert.equal(h.state(id).orchestrationStatus, 'Suspended');
    assert.equal(h.state(id).customStatus, null);
    h.send(id, newEvent({ type: 'ExecutionResumed' }));
    await h.run();
    assert.equal(h.state(id).orchestrationStatus, 'Completed');
    assert.equal(h.state(id).customStatus, '"later"');
  });

  it('should terminate with the reason and notify the parent with a failure', async () => {
    const child: Orchestrator = function* (ctx) {
      yield ctx.waitForExternalEvent('never');
    };
    const parent: Orchestrator = function* (ctx) {
      try {
        yield ctx.callSubOrchestration('Child', undefined, { instanceId: 'kid' });
      } catch (e) {
        return (e as Error).message;
      }
    };
    const h = new EpisodeHarness({ orchestrators: { Child: child, Parent: parent } });
    const id = h.start('Parent', undefined, 'parent');
    await h.run();
    h.send('kid', newEvent({ type: 'ExecutionTerminated', input: '"sayōnara"' }));
    await h.run();
    assert.equal(h.state('kid').orchestrationStatus, 'Terminated');
    assert.equal(h.state('kid').output, '"sayōnara"');
    assert.match(String(h.output(id)), /terminated: sayōnara/);
  });
});
