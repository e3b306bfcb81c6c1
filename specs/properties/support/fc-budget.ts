import { randomInt } from 'node:crypto';
import type { TestContext } from 'node:test';
import fc from 'fast-check';
import { withCauseInMessage } from '../../../src/testing/conformance-kit.ts';
import type { InvariantId } from '../../../src/testing/invariant-violation.ts';

/**
 * Run budgets and reproducibility for every property in specs/properties.
 *
 * - `FC_SEED=<int>`: the seed of every property (default: a fresh random one).
 * - `FC_PATH=<path>`: replay one failing run (with its seed and a name pattern);
 *   `FC_REPLAY_PATH=<replayPath>` too for the command-list properties (the report's
 *   counterexample ends with it).
 * - `FC_NUM_RUNS=<int>`: runs of every property, whatever its budget.
 * - `FC_BUDGET=long`: the large budget (`npm run test:properties:long`); default `ci`.
 *
 * Each property prints its seed before it starts; a failure report from
 * fast-check carries the seed, the path and the shrunk counterexample.
 */
export type BudgetLevel = 'ci' | 'long';

export interface Budget {
  readonly numRuns: number;
  readonly seed: number;
  readonly path?: string;
  /** Command-list properties only: the counterexample's replayPath. */
  readonly replayPath?: string;
}

export function budgetLevel(): BudgetLevel {
  return process.env['FC_BUDGET'] === 'long' ? 'long' : 'ci';
}

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got '${raw}'`);
  return n;
}

/** The budget of one property, announced in the test's output. */
export function budget(
  t: TestContext,
  runs: { readonly ci: number; readonly long: number },
): Budget {
  const seed = envInt('FC_SEED') ?? randomInt(0x7fffffff);
  const numRuns = envInt('FC_NUM_RUNS') ?? runs[budgetLevel()];
  const path = process.env['FC_PATH'] || undefined;
  t.diagnostic(
    `fast-check seed=${seed} numRuns=${numRuns}${path ? ` path=${path}` : ''}; ` +
      `replay: FC_SEED=${seed} FC_PATH=<path> [FC_REPLAY_PATH=<replayPath>] ` +
      `node --import tsx --test ` +
      `--test-name-pattern="${t.name.replace(/"/g, '\\"').slice(0, 40)}" <this file>`,
  );
  const replayPath = process.env['FC_REPLAY_PATH'] || undefined;
  return {
    numRuns,
    seed,
    ...(path ? { path } : {}),
    ...(replayPath ? { replayPath } : {}),
  };
}

/** Names of the lock-invariant properties (contract.md §2.5), shared by both backends. */
export const INVARIANT_TITLES: readonly (readonly [InvariantId, string])[] = [
  ['INV-1', 'exclusivity: an instance is never handed out while its lock is held'],
  ['INV-2', "fencing: a stale holder's complete, renew or abandon fails and changes nothing"],
  ['INV-3', 'exact consumption: a checkpoint consumes exactly its batch'],
  ['INV-4', 'no loss: abandoned, released, lapsed and crashed batches come back intact, first'],
  ['INV-5', 'renew extends: a renewal moves the lock forward and keeps others out'],
  ['INV-6', 'atomic checkpoint: a committed checkpoint shows all its effects, a failed one none'],
  ['INV-7', 'activity lease: one holder per activity at a time, one response per task'],
  ['INV-8', "delivery order: an instance's messages arrive in the order they were sent"],
  ['INV-9', 'no premature delivery: timers and scheduled starts are never early'],
];

/**
 * `fc.assert` whose failure message also carries the failing run's own error
 * (test runners tend to hide `cause`), after fast-check's seed, path and
 * counterexample.
 */
export async function assertProperty<Ts>(
  property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>,
  params: fc.Parameters<Ts>,
): Promise<void> {
  try {
    await fc.assert(property, params);
  } catch (err) {
    throw withCauseInMessage(err);
  }
}
