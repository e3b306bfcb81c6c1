import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import {
  taskHubMachine,
  type HubEvent,
  type HubStateName,
} from '../../actors/task-hub.machine.ts';

type Snap = SnapshotFrom<typeof taskHubMachine>;
type AnyEvent = HubEvent | { type: string; error?: unknown; output?: unknown };

const m = taskHubMachine;
const send = (s: Snap, e: AnyEvent): Snap => transition(m, s, e as HubEvent)[0];
const done = (id: string): AnyEvent => ({ type: `xstate.done.actor.${id}`, output: undefined });
const fail = (id: string, error: unknown): AnyEvent =>
  ({ type: `xstate.error.actor.${id}`, error });

const CREATE: HubEvent = { type: 'hub.create', recreateInstanceStore: true };
const CINE: HubEvent = { type: 'hub.createIfNotExists' };
const START: HubEvent = { type: 'hub.start' };
const STOP: HubEvent = { type: 'hub.stop', forced: false };
const FORCE: HubEvent = { type: 'hub.stop', forced: true };
const DELETE: HubEvent = { type: 'hub.delete', deleteInstanceStore: true };

function initial(): Snap {
  return initialTransition(m, { hub: 'h1' })[0];
}

/** A snapshot in `state`, reached through legal events only. */
function reach(state: HubStateName): Snap {
  const s0 = initial();
  const paths: Record<HubStateName, AnyEvent[]> = {
    absent: [],
    creating: [CINE],
    created: [CINE, done('provision')],
    starting: [CINE, done('provision'), START],
    running: [CINE, done('provision'), START, done('startWork')],
    stopping: [CINE, done('provision'), START, done('startWork'), STOP],
    stopped: [CINE, done('provision'), START, done('startWork'), STOP, done('stopWork')],
    deleting: [DELETE],
    failed: [CINE, fail('provision', new Error('boom'))],
  };
  let s = s0;
  for (const e of paths[state]) s = send(s, e);
  assert.equal(s.value, state);
  return s;
}

const EVENTS: Record<string, HubEvent> = {
  create: CREATE, createIfNotExists: CINE, start: START, stop: STOP, delete: DELETE,
};

/** Expected next state per (state, call); absent entries are rejected calls. */
const TABLE: Record<HubStateName, Partial<Record<keyof typeof EVENTS, HubStateName>>> = {
  absent: { create: 'creating', createIfNotExists: 'creating', stop: 'absent', delete: 'deleting' },
  creating: { createIfNotExists: 'creating' },
  created: {
    create: 'creating', createIfNotExists: 'created', start: 'starting', stop: 'created',
    delete: 'deleting',
  },
  starting: { createIfNotExists: 'starting', start: 'starting', stop: 'stopping' },
  running: { createIfNotExists: 'running', start: 'running', stop: 'stopping' },
  stopping: { createIfNotExists: 'stopping', stop: 'stopping' },
  stopped: {
    create: 'creating', createIfNotExists: 'stopped', start: 'starting', stop: 'stopped',
    delete: 'deleting',
  },
  deleting: { delete: 'deleting' },
  failed: { create: 'creating', createIfNotExists: 'creating', stop: 'failed', delete: 'deleting' },
};

describe('taskHubMachine', () => {
  it('should start absent with the hub name in its context', () => {
    const s = initial();
    assert.equal(s.value, 'absent');
    assert.equal(s.context.hub, 'h1');
    assert.equal(s.context.forced, false);
  });

  type Row = [HubStateName, Partial<Record<string, HubStateName>>];
  for (const [state, row] of Object.entries(TABLE) as Row[]) {
    for (const [call, event] of Object.entries(EVENTS)) {
      const expected = row[call];
      if (expected) {
        it(`should accept ${call} in ${state} and move to ${expected}`, () => {
          const s = reach(state);
          assert.equal(s.can(event), true);
          assert.equal(send(s, event).value, expected);
        });
      } else {
        it(`should reject ${call} in ${state} and leave the state unchanged`, () => {
          const s = reach(state);
          assert.equal(s.can(event), false);
          const next = send(s, event);
          assert.equal(next.value, state);
          assert.deepEqual(next.context, s.context);
        });
      }
    }
  }

  it('should follow the normal path create, start, stop, delete', () => {
    let s = initial();
    const steps: [AnyEvent, HubStateName][] = [
      [CREATE, 'creating'], [done('provision'), 'created'], [START, 'starting'],
      [done('startWork'), 'running'], [STOP, 'stopping'], [done('stopWork'), 'stopped'],
      [START, 'starting'], [done('startWork'), 'running'], [FORCE, 'stopping'],
      [done('stopWork'), 'stopped'], [DELETE, 'deleting'], [done('deprovision'), 'absent'],
    ];
    for (const [e, want] of steps) {
      s = send(s, e);
      assert.equal(s.value, want, `after ${e.type}`);
    }
  });

  it('should record the create flags and the provisioning mode', () => {
    let s = send(initial(), { type: 'hub.create', recreateInstanceStore: false });
    assert.equal(s.context.provisionMode, 'create');
    assert.equal(s.context.recreateInstanceStore, false);
    s = send(send(s, done('provision')), { type: 'hub.delete', deleteInstanceStore: false });
    assert.equal(s.context.deleteInstanceStore, false);
    s = send(initial(), CINE);
    assert.equal(s.context.provisionMode, 'createIfNotExists');
  });

  it('should go to failed with the error when a resource step fails', () => {
    const err = new Error('no disk');
    for (const [state, id] of [['creating', 'provision'], ['starting', 'startWork'],
      ['deleting', 'deprovision']] as const) {
      const s = send(reach(state), fail(id, err));
      assert.equal(s.value, 'failed');
      assert.equal(s.context.error, err);
    }
  });

  it('should end a failed drain in stopped, keeping the error', () => {
    const err = new Error('drain broke');
    const s = send(reach('stopping'), fail('stopWork', err));
    assert.equal(s.value, 'stopped');
    assert.equal(s.context.error, err);
    const running = send(send(s, START), done('startWork'));
    assert.equal(running.value, 'running');
    assert.equal(running.context.error, undefined);
  });

  it('should escalate a graceful stop to a forced one, and not the other way', () => {
    const graceful = reach('stopping');
    assert.equal(graceful.context.forced, false);
    const forced = send(graceful, FORCE);
    assert.equal(forced.value, 'stopping');
    assert.equal(forced.context.forced, true);
    const again = send(forced, STOP);
    assert.equal(again.value, 'stopping');
    assert.equal(again.context.forced, true);
  });

  it('should stop a hub that is still starting', () => {
    const s = send(reach('starting'), FORCE);
    assert.equal(s.value, 'stopping');
    assert.equal(s.context.forced, true);
  });

  it('should ignore completions of actors it does not run in the current state', () => {
    const s = reach('running');
    const next = send(s, done('provision'));
    assert.equal(next.value, 'running');
  });
});
