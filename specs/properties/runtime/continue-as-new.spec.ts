import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Orchestrator } from '../../../src/runtime/orchestration-context.ts';
import { assertProperty, budget } from '../support/fc-budget.ts';
import { EpisodeDriver } from './episode-driver.ts';

// Continue-as-new never loses or duplicates an unprocessed event (contract.md §3.12,
// carry-over): an orchestration takes `per` events per execution and continues as new
// until it has seen `total`; events arrive in generated batches, often several in the
// batch whose event triggers the continue-as-new, or while the previous execution waited.
// Every event must be seen exactly once, in the order sent.

interface Input {
  readonly per: number;
  readonly total: number;
  readonly seen: readonly number[];
  /** Also wait for a timer between events (events buffer meanwhile). */
  readonly timerEvery: number;
}

const collector: Orchestrator<Input, number[]> = function* (ctx, input) {
  const seen = [...input.seen];
  for (let i = 0; i < input.per && seen.length < input.total; i++) {
    if (input.timerEvery > 0 && seen.length % input.timerEvery === 0) {
      yield ctx.createTimer(1_000);
    }
    seen.push(yield ctx.waitForExternalEvent('x'));
  }
  if (seen.length >= input.total) return seen;
  ctx.continueAsNew({ ...input, seen }, { preserveUnprocessedEvents: true });
  return [];
};

describe('runtime continue-as-new', () => {
  it('should carry every unprocessed event over, none lost, none twice', async (t) => {
    const arbs = [
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 14 }),
      fc.integer({ min: 0, max: 3 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
    ] as const;
    await assertProperty(
      fc.asyncProperty(...arbs, async (per, total, timerEvery, choices) => {
        const events = Array.from({ length: total }, (_, i) => ({ name: 'x', data: i }));
        const driver = new EpisodeDriver({
          orchestrator: collector,
          activity: () => null,
          input: { per, total, seen: [], timerEvery },
          events,
          choices,
        });
        await driver.run();
        assert.equal(driver.state?.orchestrationStatus, 'Completed');
        assert.deepEqual(
          driver.output(),
          events.map((e) => e.data),
        );
        // Each execution but the last took `per` events: the count of executions shows
        // that none ran twice and none was skipped.
        assert.equal(new Set(driver.executionIds()).size, Math.max(1, Math.ceil(total / per)));
      }),
      budget(t, { ci: 200, long: 10_000 }),
    );
  });
});
