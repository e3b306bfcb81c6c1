import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkOrchestrationServiceInvariants } from '../../src/testing/conformance-kit.ts';
import { budget, INVARIANT_TITLES } from './support/fc-budget.ts';
import { memoryTarget } from './support/targets.ts';

// Model-based properties of the memory backend (simulated clock, two workers on one hub).
// Each named property favours the commands that stress its invariant; every run checks
// all of INV-1..INV-9 after every command and ends with a drain in which every message
// must be consumed exactly once and no instance may be stuck.

const RUNS = { ci: 60, long: 3_000 };

const MIXED = 'model-based: random commands keep INV-1..INV-9, every message consumed once';

/** Sums the kit's per-run counters, to show the runs exercised the backend. */
function tally(): {
  onRunEnd: (stats: ReadonlyMap<string, number>) => void;
  total: Map<string, number>;
} {
  const total = new Map<string, number>();
  return {
    total,
    onRunEnd: (stats) => {
      for (const [k, v] of stats) total.set(k, (total.get(k) ?? 0) + v);
    },
  };
}

describe('orchestration service invariants: memory backend', () => {
  for (const [id, title] of INVARIANT_TITLES) {
    it(`${id} ${title}`, async (t) => {
      const { onRunEnd, total } = tally();
      await checkOrchestrationServiceInvariants({
        ...memoryTarget(),
        ...budget(t, RUNS),
        focus: id,
        onRunEnd,
      });
      assert.ok((total.get('locks') ?? 0) > 0, 'no run handed out a work item');
    });
  }

  it(MIXED, async (t) => {
    const { onRunEnd, total } = tally();
    await checkOrchestrationServiceInvariants({
      ...memoryTarget(),
      ...budget(t, { ci: 100, long: 5_000 }),
      focus: 'all',
      maxCommands: 60,
      onRunEnd,
    });
    assert.ok((total.get('locks') ?? 0) > 0, 'no run handed out a work item');
    assert.ok((total.get('activities completed') ?? 0) > 0, 'no run completed an activity');
  });

  // The counterexample that once made a checkpoint commit and then throw LOCK_LOST:
  // [episode(w0, none), episode(w0, fail dupstart3)], where dupstart3 picks X itself.
  it(
    "INV-6 memory: a checkpoint that ends X and sends a start to X's own id commits " +
      'and returns (the start is a discarded duplicate), or fails and changes nothing',
    async () => {
      await checkOrchestrationServiceInvariants({
        ...memoryTarget(),
        numRuns: 300,
        seed: 1,
        focus: 'INV-6',
      });
    },
  );
});
