import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { OrchestratorAction } from '../../../src/runtime/orchestrator-action.ts';
import {
  OrchestrationExecutor,
  type ExecutionResult,
} from '../../../src/runtime/orchestration-executor.ts';
import { assertProperty, budget } from '../support/fc-budget.ts';
import { EpisodeDriver } from './episode-driver.ts';
import { eventsOf, programArb, programOrchestrator, work, type Program } from './program.ts';

// Replay determinism (contract.md §4): a generated orchestration runs live under generated
// batching, delivery orders and executor caching; every executor pass is recorded, and a
// fresh executor replaying the same history (past events, then the pass's new events)
// must make the same decisions, set the same custom status and reach the same completion.

/** What a pass decided, without timestamps (events carry the episode's time). */
function decisions(r: ExecutionResult): unknown {
  const action = (a: OrchestratorAction): unknown => {
    if (a.kind !== 'completeOrchestration') return a;
    const { carryoverEvents, failureDetails, ...rest } = a;
    return {
      ...rest,
      carry: carryoverEvents?.map((e) => [e.name, e.input]),
      failure: failureDetails && `${failureDetails.errorType}: ${failureDetails.errorMessage}`,
    };
  };
  return {
    actions: r.actions.map(action),
    customStatus: r.customStatus,
    completion: r.completion && action(r.completion),
    suspended: r.isSuspended,
  };
}

async function liveThenReplay(program: Program, choices: number[]): Promise<void> {
  const input = { ...program, round: 0, acc: [] };
  const driver = new EpisodeDriver({
    orchestrator: programOrchestrator,
    input,
    activity: work,
    events: eventsOf(program),
    choices,
    mayCache: true,
  });
  await driver.run();
  assert.ok(
    driver.finished,
    `the orchestration did not finish: ${driver.state?.orchestrationStatus}`,
  );
  for (const [i, pass] of driver.passes.entries()) {
    const replayed = new OrchestrationExecutor(programOrchestrator).execute(pass.past, pass.fresh);
    assert.deepEqual(
      decisions(replayed),
      decisions(pass.result),
      `pass ${i} (${pass.cached ? 'cached executor' : 'fresh'}) replays differently`,
    );
  }
  // Replaying the whole final history decides nothing new and completes the same way.
  const final = new OrchestrationExecutor(programOrchestrator).execute(driver.history, []);
  const ends = (r: ExecutionResult) => r.actions.filter((a) => a.kind === 'completeOrchestration');
  assert.deepEqual(
    final.actions.filter((a) => a.kind !== 'completeOrchestration'),
    [],
    'replaying the final history produced new decisions',
  );
  const [replayedEnd] = ends(final);
  const [liveEnd] = ends(driver.passes.at(-1)!.result);
  assert.equal(replayedEnd?.status, liveEnd?.status, 'the final history ends differently');
  assert.equal(replayedEnd?.result, liveEnd?.result, 'the final history has another output');
}

describe('runtime replay', () => {
  it(
    'should make the same decisions and reach the same status when any recorded history is ' +
      'replayed',
    async (t) => {
      await assertProperty(
        fc.asyncProperty(
          programArb,
          fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
          liveThenReplay,
        ),
        budget(t, { ci: 150, long: 5_000 }),
      );
    },
  );
});
