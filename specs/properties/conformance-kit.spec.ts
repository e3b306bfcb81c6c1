import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkOrchestrationServiceInvariants, invariantOf } from '../../src/testing/index.ts';
import { BREAKAGES, brokenMemoryTarget, type Breakage } from './support/broken-backends.ts';
import { memoryTarget } from './support/targets.ts';
import { budget } from './support/fc-budget.ts';

// The conformance kit must catch backends that break an invariant: each deliberately
// broken variant of the memory backend is run through the kit with the command mix of the
// invariant it breaks, and the kit must fail naming that invariant, with a report that
// carries the seed and the path to replay it.

const RUNS = { ci: 300, long: 3_000 };

/**
 * Breakages that violate a second invariant as well. A backend that reports
 * success to a holder whose lock was lost, without committing, is caught as
 * INV-2 when the loss is certain, and as INV-6 (a successful checkpoint whose
 * effects are missing) when the lock lapsed during the call, where either
 * outcome would have been allowed.
 */
const ALSO: Partial<Record<Breakage, readonly string[]>> = {
  'no-fence-on-commit': ['INV-6'],
};

describe('conformance kit against deliberately broken backends', () => {
  for (const [breakage, invariant] of Object.entries(BREAKAGES)) {
    it(`${invariant} property catches a backend with breakage '${breakage}'`, async (t) => {
      const b = budget(t, RUNS);
      let failure: unknown;
      try {
        await checkOrchestrationServiceInvariants({
          ...brokenMemoryTarget(breakage as Breakage),
          ...b,
          focus: invariant,
        });
      } catch (err) {
        failure = err;
      }
      assert.ok(
        failure instanceof Error,
        `the kit did not catch '${breakage}' in ` + `${b.numRuns} runs (seed ${b.seed})`,
      );
      const caught = invariantOf(failure);
      const accepted = [invariant, ...(ALSO[breakage as Breakage] ?? [])];
      assert.ok(caught !== undefined && accepted.includes(caught), failure.message);
      assert.match(failure.message, /seed: -?\d+, path: "[\d:]+"/);
      assert.match(failure.message, /Counterexample: /);
    });
  }

  it("should say so when a backend ignores the kit's clock, not blame an invariant", async () => {
    let failure: unknown;
    try {
      await checkOrchestrationServiceInvariants({
        ...memoryTarget({ clock: undefined }),
        numRuns: 20,
        seed: 7,
      });
    } catch (err) {
      failure = err;
    }
    assert.ok(failure instanceof Error, 'the kit passed a backend on another clock');
    assert.equal(invariantOf(failure), 'CONTRACT');
    assert.match(failure.message, /build the backend with the `clock` the kit passes/);
  });
});
