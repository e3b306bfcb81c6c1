import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { initialTransition, transition } from 'xstate';
import {
  HUB_BUSY_STATES,
  taskHubMachine,
  type HubStateName,
} from '../../../actors/task-hub.machine.ts';
import { assertProperty, budget } from '../support/fc-budget.ts';

// Random event sequences into the task-hub machine (design §3): lifecycle calls and the
// results of the resource steps the machine runs (provision, startWork, stopWork,
// deprovision), fed through the pure transition function. The reference is the design's
// lifecycle: absent -> creating -> created -> starting -> running -> stopping -> stopped,
// deleting back to absent, failed when a step fails (a failed drain still stops). Calls
// not valid in a state are refused and change nothing; idempotent calls are accepted in
// place. Forbidden: running without a finished startWork; a step result for a step that
// is not running; a busy state without exactly its one step actor.

type Call = 'create' | 'createIfNotExists' | 'start' | 'stop' | 'stopForced' | 'delete';
type Step = 'provision' | 'startWork' | 'stopWork' | 'deprovision';
type Input = { readonly call: Call } | { readonly step: Step; readonly ok: boolean };

/** The step a busy state runs. */
const STEP_OF: Partial<Record<HubStateName, Step>> = {
  creating: 'provision',
  starting: 'startWork',
  stopping: 'stopWork',
  deleting: 'deprovision',
};

const CALLS: Record<HubStateName, Partial<Record<Call, HubStateName>>> = {
  absent: {
    create: 'creating',
    createIfNotExists: 'creating',
    stop: 'absent',
    stopForced: 'absent',
    delete: 'deleting',
  },
  creating: { createIfNotExists: 'creating' },
  created: {
    create: 'creating',
    createIfNotExists: 'created',
    start: 'starting',
    stop: 'created',
    stopForced: 'created',
    delete: 'deleting',
  },
  starting: {
    start: 'starting',
    createIfNotExists: 'starting',
    stop: 'stopping',
    stopForced: 'stopping',
  },
  running: {
    start: 'running',
    createIfNotExists: 'running',
    stop: 'stopping',
    stopForced: 'stopping',
  },
  stopping: { stop: 'stopping', stopForced: 'stopping', createIfNotExists: 'stopping' },
  stopped: {
    create: 'creating',
    createIfNotExists: 'stopped',
    start: 'starting',
    stop: 'stopped',
    stopForced: 'stopped',
    delete: 'deleting',
  },
  deleting: { delete: 'deleting' },
  failed: {
    create: 'creating',
    createIfNotExists: 'creating',
    stop: 'failed',
    stopForced: 'failed',
    delete: 'deleting',
  },
};

const STEP_RESULT: Record<Step, { readonly ok: HubStateName; readonly error: HubStateName }> = {
  provision: { ok: 'created', error: 'failed' },
  startWork: { ok: 'running', error: 'failed' },
  stopWork: { ok: 'stopped', error: 'stopped' },
  deprovision: { ok: 'absent', error: 'failed' },
};

function reference(state: HubStateName, input: Input): HubStateName | null {
  if ('call' in input) return CALLS[state][input.call] ?? null;
  if (STEP_OF[state] !== input.step) return null;
  return input.ok ? STEP_RESULT[input.step].ok : STEP_RESULT[input.step].error;
}

/** An event of the machine's own types, or the done / error event of a step actor. */
type AnyEvent = { readonly type: string; readonly [key: string]: unknown };

function toEvent(input: Input): AnyEvent {
  if ('step' in input) {
    return input.ok
      ? { type: `xstate.done.actor.${input.step}`, output: undefined }
      : { type: `xstate.error.actor.${input.step}`, error: new Error(`${input.step} failed`) };
  }
  switch (input.call) {
    case 'create':
      return { type: 'hub.create', recreateInstanceStore: true };
    case 'createIfNotExists':
      return { type: 'hub.createIfNotExists' };
    case 'start':
      return { type: 'hub.start' };
    case 'stop':
      return { type: 'hub.stop', forced: false };
    case 'stopForced':
      return { type: 'hub.stop', forced: true };
    case 'delete':
      return { type: 'hub.delete', deleteInstanceStore: true };
  }
}

const ALL_CALLS: readonly Call[] = [
  'create',
  'createIfNotExists',
  'start',
  'stop',
  'stopForced',
  'delete',
];
const ALL_INPUTS: readonly Input[] = [
  ...ALL_CALLS.map((call) => ({ call })),
  ...(['provision', 'startWork', 'stopWork', 'deprovision'] as const).flatMap((step) => [
    { step, ok: true },
    { step, ok: false },
  ]),
];

/**
 * A generated move: mostly one of the inputs the design accepts in the current state
 * (so runs reach every state), sometimes any input at all (so refusals are tried too).
 */
const moveArb = fc.record({ guided: fc.nat({ max: 3 }).map((n) => n > 0), pick: fc.nat() });

function inputFor(state: HubStateName, move: { guided: boolean; pick: number }): Input {
  const pool = move.guided ? ALL_INPUTS.filter((i) => reference(state, i) !== null) : ALL_INPUTS;
  return pool[move.pick % pool.length] as Input;
}

type Snapshot = ReturnType<typeof initialTransition<typeof taskHubMachine>>[0];

function children(s: Snapshot): string[] {
  return Object.keys(s.children)
    .filter((k) => s.children[k] !== undefined)
    .sort();
}

describe('task-hub machine', () => {
  it('should follow the design lifecycle; a refused event changes nothing', async (t) => {
    await assertProperty(
      fc.property(fc.array(moveArb, { maxLength: 40 }), (moves) => {
        let snap: Snapshot = initialTransition(taskHubMachine, { hub: 'h' })[0];
        let expected: HubStateName = 'absent';
        for (const move of moves) {
          const input = inputFor(expected, move);
          const next = reference(expected, input);
          const event = toEvent(input) as Parameters<typeof snap.can>[0];
          const what: string = `${expected} + ${JSON.stringify(input)}`;
          assert.equal(snap.can(event), next !== null, what);
          const after = transition(taskHubMachine, snap, event)[0];
          if (next === null) {
            assert.deepEqual([after.value, after.context], [snap.value, snap.context], what);
            continue;
          }
          if (next === 'running' && expected !== 'running') {
            assert.ok('step' in input && input.step === 'startWork', `running after ${what}`);
          }
          if (
            'call' in input &&
            input.call === 'stopForced' &&
            expected !== 'absent' &&
            STEP_OF[next] === 'stopWork'
          ) {
            assert.equal(after.context.forced, true, `a forced stop is forced: ${what}`);
          }
          snap = after;
          expected = next;
          assert.equal(snap.value, expected, what);
          const step = STEP_OF[expected];
          assert.deepEqual(children(snap), step ? [step] : [], `step actors in ${expected}`);
          assert.equal(HUB_BUSY_STATES.has(expected), step !== undefined);
        }
      }),
      budget(t, { ci: 2_000, long: 100_000 }),
    );
  });
});
