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

describe('orchestration service invariants: memory backend', () => {
  for (const [id, title] of INVARIANT_TITLES) {
    it(`${id} ${title}`, async (t) => {
      await checkOrchestrationServiceInvariants({
        ...memoryTarget(),
        ...budget(t, RUNS),
        focus: id,
      });
    });
  }

  it(MIXED, async (t) => {
    await checkOrchestrationServiceInvariants({
      ...memoryTarget(),
      ...budget(t, { ci: 100, long: 5_000 }),
      focus: 'all',
      maxCommands: 60,
    });
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
