import fc from 'fast-check';
import type { Orchestrator } from '../../../src/runtime/orchestration-context.ts';
import type { Task } from '../../../src/runtime/task.ts';

/**
 * A small language of orchestrations for runtime properties: a generated
 * program is the input of one generic orchestrator, so any program can be
 * run live, recorded and replayed. Its output never depends on `isReplaying`,
 * which differs between a cached executor and a replay by design.
 */
export type ProgramStep =
  | { readonly k: 'act'; readonly fail: boolean }
  | { readonly k: 'timer'; readonly ms: number }
  | { readonly k: 'event'; readonly name: 'a' | 'b' }
  | { readonly k: 'all'; readonly fails: readonly boolean[] }
  | { readonly k: 'any'; readonly fails: readonly boolean[]; readonly timerMs: number | null }
  | { readonly k: 'status' }
  | { readonly k: 'guid' }
  | { readonly k: 'time' };

export interface Program {
  readonly steps: readonly ProgramStep[];
  /** Executions to run through continue-as-new before returning. */
  readonly rounds: number;
}

export interface ProgramInput extends Program {
  readonly round: number;
  readonly acc: readonly unknown[];
}

const step: fc.Arbitrary<ProgramStep> = fc.oneof(
  fc.record({ k: fc.constant('act' as const), fail: fc.boolean() }),
  fc.record({ k: fc.constant('timer' as const), ms: fc.integer({ min: 0, max: 60_000 }) }),
  fc.record({
    k: fc.constant('event' as const),
    name: fc.constantFrom('a' as const, 'b' as const),
  }),
  fc.record({ k: fc.constant('all' as const), fails: fc.array(fc.boolean(), { maxLength: 3 }) }),
  fc.record({
    k: fc.constant('any' as const),
    fails: fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
    timerMs: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: null }),
  }),
  fc.constant({ k: 'status' as const }),
  fc.constant({ k: 'guid' as const }),
  fc.constant({ k: 'time' as const }),
);

export const programArb: fc.Arbitrary<Program> = fc.record({
  steps: fc.array(step, { maxLength: 8 }),
  rounds: fc.nat({ max: 2 }),
});

/** External events a program waits for over all its rounds (names in order). */
export function eventsOf(p: Program): { name: string; data: unknown }[] {
  const out: { name: string; data: unknown }[] = [];
  for (let r = 0; r <= p.rounds; r++) {
    for (const s of p.steps) if (s.k === 'event') out.push({ name: s.name, data: out.length });
  }
  return out;
}

/** The activity every program calls: fails when asked to. */
export function work(input: unknown): unknown {
  const i = input as { id: string; fail: boolean };
  if (i.fail) throw new Error(`boom ${i.id}`);
  return `done ${i.id}`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The generic orchestrator: runs the steps, records what each gave, loops by continue-as-new. */
export const programOrchestrator: Orchestrator<ProgramInput, unknown[]> = function* (ctx, input) {
  const out: unknown[] = [...input.acc];
  const call = (id: string, fail: boolean): Task<unknown> =>
    ctx.callActivity('Work', { id: `${input.round}.${id}`, fail });
  for (const [i, s] of input.steps.entries()) {
    try {
      switch (s.k) {
        case 'act':
          out.push(yield call(`${i}`, s.fail));
          break;
        case 'timer':
          yield ctx.createTimer(s.ms);
          out.push(`timer ${i}`);
          break;
        case 'event':
          out.push(yield ctx.waitForExternalEvent(s.name));
          break;
        case 'all':
          out.push(yield ctx.whenAll(s.fails.map((f, j) => call(`${i}.${j}`, f))));
          break;
        case 'any': {
          const tasks = s.fails.map((f, j) => call(`${i}.${j}`, f));
          if (s.timerMs !== null) tasks.push(ctx.createTimer(s.timerMs));
          const winner: Task<unknown> = yield ctx.whenAny(tasks);
          out.push(`any ${tasks.indexOf(winner)}`);
          break;
        }
        case 'status':
          ctx.setCustomStatus({ step: i, round: input.round });
          break;
        case 'guid':
          out.push(ctx.newGuid());
          break;
        case 'time':
          out.push(ctx.currentUtcDateTime.toISOString());
          break;
      }
    } catch (err) {
      out.push(`error ${message(err)}`);
    }
  }
  if (input.round < input.rounds) {
    ctx.continueAsNew({ ...input, round: input.round + 1, acc: out });
    return [];
  }
  return out;
};
