import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Orchestrator } from '../../../src/runtime/orchestration-context.ts';
import type { Task } from '../../../src/runtime/task.ts';
import { assertProperty, budget } from '../support/fc-budget.ts';
import { EpisodeDriver } from './episode-driver.ts';

// whenAll / whenAny over random task trees (design 9.22): activities are the leaves,
// their results arrive in a generated order and batching; the value the orchestration
// sees must be what the definition gives for that order, computed here independently:
// - whenAll: every child's value in child order once all completed; it fails with the
//   first child failure in history order, as soon as that failure arrives; [] for [];
// - whenAny: the child that finished first in history order (completed or failed);
// - a composite whose children are already complete resolves at once, in creation order.

type Tree =
  | { readonly t: 'leaf'; readonly fail: boolean }
  | { readonly t: 'all'; readonly c: readonly Tree[] }
  | { readonly t: 'any'; readonly c: readonly Tree[] };

const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ t: fc.constant('leaf' as const), fail: fc.boolean() }),
    fc.record({ t: fc.constant('all' as const), c: fc.array(tie('tree'), { maxLength: 3 }) }),
    fc.record({
      t: fc.constant('any' as const),
      c: fc.array(tie('tree'), { minLength: 1, maxLength: 3 }),
    }),
  ),
})).tree;

interface Built {
  readonly node: Tree;
  readonly task: Task<unknown>;
  readonly kids: readonly Built[];
}

function failureMessage(err: unknown): string {
  const details = (err as { failureDetails?: { errorMessage?: string } }).failureDetails;
  return details?.errorMessage ?? String(err);
}

function show(b: Built): unknown {
  if (b.task.isFailed) return { failed: failureMessage(b.task.error) };
  if (b.node.t === 'leaf') return { ok: b.task.result };
  if (b.node.t === 'all') return b.kids.map(show);
  const i = b.kids.findIndex((k) => k.task === b.task.result);
  return { winner: i, value: show(b.kids[i]!) };
}

/** Builds the tree (leaves are activities, in depth-first order) and reports what it gave. */
const treeOrchestrator: Orchestrator<Tree, unknown> = function* (ctx, tree) {
  let leaves = 0;
  const build = (node: Tree): Built => {
    if (node.t === 'leaf') {
      const id = leaves++;
      return { node, task: ctx.callActivity('Work', { id, fail: node.fail }), kids: [] };
    }
    const kids = node.c.map(build);
    const tasks = kids.map((k) => k.task);
    return { node, task: node.t === 'all' ? ctx.whenAll(tasks) : ctx.whenAny(tasks), kids };
  };
  const root = build(tree);
  try {
    yield root.task;
  } catch {
    // The root failed: `show` reports it.
  }
  return show(root);
};

function activity(input: unknown): unknown {
  const { id, fail } = input as { id: number; fail: boolean };
  if (fail) throw new Error(`boom L${id}`);
  return `done L${id}`;
}

interface Outcome {
  /** When it resolved: the position of the result event, or before all events when at once. */
  readonly at: number;
  readonly failed: boolean;
  readonly value: unknown;
}

/** The definition, evaluated from the order in which the leaves' results arrived. */
function evaluate(tree: Tree, arrival: ReadonlyMap<number, number>): unknown {
  let leaves = 0;
  let created = 0;
  const AT_ONCE = -1_000_000;
  const ev = (node: Tree): Outcome => {
    if (node.t === 'leaf') {
      const id = leaves++;
      created++;
      const at = arrival.get(id)!;
      return node.fail
        ? { at, failed: true, value: { failed: `boom L${id}` } }
        : { at, failed: false, value: { ok: `done L${id}` } };
    }
    const kids = node.c.map(ev);
    const self = AT_ONCE + created++;
    if (node.t === 'all') {
      const failures = kids.filter((k) => k.failed).sort((a, b) => a.at - b.at);
      if (failures[0]) return { ...failures[0], value: failures[0].value };
      const done = kids.every((k) => k.at < 0) ? self : Math.max(...kids.map((k) => k.at));
      return { at: done, failed: false, value: kids.map((k) => k.value) };
    }
    const first = kids.reduce((w, k) => (k.at < w.at ? k : w));
    const at = first.at < 0 ? self : first.at;
    return { at, failed: false, value: { winner: kids.indexOf(first), value: first.value } };
  };
  return ev(tree).value;
}

describe('runtime composites', () => {
  it('should resolve whenAll / whenAny over random task trees by their definitions', async (t) => {
    const choices = fc.array(fc.nat(), { minLength: 1, maxLength: 64 });
    await assertProperty(
      fc.asyncProperty(treeArb, choices, async (tree, picks) => {
        const driver = new EpisodeDriver({
          orchestrator: treeOrchestrator,
          input: tree,
          activity,
          choices: picks,
        });
        await driver.run();
        assert.equal(driver.state?.orchestrationStatus, 'Completed');
        const arrival = new Map<number, number>();
        for (const [i, e] of driver.history.entries()) {
          if (e.type === 'TaskCompleted' || e.type === 'TaskFailed') {
            arrival.set(e.taskScheduledId, i);
          }
        }
        assert.deepEqual(driver.output(), evaluate(tree, arrival));
      }),
      budget(t, { ci: 300, long: 20_000 }),
    );
  });
});
