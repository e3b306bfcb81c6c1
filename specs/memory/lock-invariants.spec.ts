import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isDurableTaskError } from '../../src/core/errors.ts';
import type { OrchestrationWorkItem } from '../../src/core/work-item.ts';
import { createMemoryBackend, type MemoryBackend } from '../../src/memory/index.ts';
import { SimClock } from '../support/sim-clock.ts';
import { checkpoint, create, episode, raise } from './helpers.ts';

// Random interleavings of client sends, locks, checkpoints, abandons, releases,
// renewals and clock jumps, checked against the lock invariants of contract 2.5:
// INV-1/2 (a holder whose lock was taken never commits), INV-3/4/8 (every event is
// consumed exactly once, in send order, by some successful checkpoint).

const INSTANCES = ['a', 'b', 'c'] as const;
const LOCK_MS = 10_000;

type Command =
  | { kind: 'send'; instance: number }
  | { kind: 'lock' }
  | { kind: 'complete' | 'abandon' | 'release' | 'renew'; holder: number }
  | { kind: 'advance'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const),
    instance: fc.nat(INSTANCES.length - 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('lock' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('complete' as const),
    holder: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abandon' as const), holder: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), holder: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('renew' as const), holder: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const),
    ms: fc.integer({ min: 1, max: 2 * LOCK_MS }) }) },
);

interface Held {
  readonly item: OrchestrationWorkItem;
  /** A later lock of the same instance exists: this holder must never commit. */
  stale: boolean;
}

function valuesOf(item: OrchestrationWorkItem): number[] {
  return item.newMessages.flatMap((m) =>
    m.event.type === 'EventRaised' ? [Number(m.event.name)] : []);
}

async function expectLockLostOr<T>(p: Promise<T>): Promise<T | 'lost'> {
  try {
    return await p;
  } catch (err) {
    if (isDurableTaskError(err, 'LOCK_LOST')) return 'lost';
    throw err;
  }
}

async function run(commands: readonly Command[]): Promise<void> {
  const clock = new SimClock();
  const b: MemoryBackend = createMemoryBackend({
    clock, hub: 'props', orchestrationLockMs: LOCK_MS, abandonBackoffMs: 1_000,
    maxAbandonBackoffMs: 4_000,
  });
  try {
    await b.service.createIfNotExists();
    await b.service.start();
    for (const id of INSTANCES) {
      await create(b, id);
      await episode(b);
    }
    const sent = new Map<string, number>(INSTANCES.map((id) => [id, 0]));
    const consumed = new Map<string, number[]>(INSTANCES.map((id) => [id, []]));
    let held: Held[] = [];

    const commit = async (h: Held): Promise<void> => {
      const r = await expectLockLostOr(checkpoint(b, h.item));
      if (r === 'lost') return;
      assert.equal(h.stale, false, `stale holder of '${h.item.instanceId}' committed`);
      consumed.get(h.item.instanceId)!.push(...valuesOf(h.item));
    };

    for (const c of commands) {
      switch (c.kind) {
        case 'send': {
          const id = INSTANCES[c.instance]!;
          const n = sent.get(id)!;
          sent.set(id, n + 1);
          await b.client.sendOrchestrationMessage(raise(id, String(n)));
          break;
        }
        case 'lock': {
          const item = await b.service.lockNextOrchestrationWorkItem(0);
          if (!item) break;
          for (const h of held) if (h.item.instanceId === item.instanceId) h.stale = true;
          held.push({ item, stale: false });
          break;
        }
        case 'advance':
          clock.advance(c.ms);
          break;
        default: {
          const h = held[c.holder % Math.max(1, held.length)];
          if (!h) break;
          if (c.kind === 'complete') await commit(h);
          else if (c.kind === 'abandon') {
            await expectLockLostOr(b.service.abandonOrchestrationWorkItem(h.item));
          } else if (c.kind === 'renew') {
            const r = await expectLockLostOr(b.service.renewOrchestrationWorkItemLock(h.item));
            if (r !== 'lost') assert.equal(h.stale, false, 'a stale holder renewed');
          } else {
            await b.service.releaseOrchestrationWorkItem(h.item);
            held = held.filter((x) => x !== h);
          }
        }
      }
    }
    // Drain: let every lock and back-off lapse, then consume what is left.
    for (const h of held) await b.service.releaseOrchestrationWorkItem(h.item);
    clock.advance(2 * LOCK_MS);
    for (let i = 0; i < 100; i++) {
      const item = await b.service.lockNextOrchestrationWorkItem(0);
      if (!item) break;
      await commit({ item, stale: false });
      await b.service.releaseOrchestrationWorkItem(item);
    }
    for (const id of INSTANCES) {
      const expected = Array.from({ length: sent.get(id)! }, (_, i) => i);
      assert.deepEqual(consumed.get(id), expected, `events of '${id}'`);
      const history = await b.client.getOrchestrationHistory(id);
      const inHistory = history.flatMap((e) => e.type === 'EventRaised' ? [Number(e.name)] : []);
      assert.deepEqual(inHistory, expected, `history of '${id}'`);
    }
  } finally {
    await b.close();
  }
}

describe('memory backend: lock invariants under random interleavings', () => {
  it('should deliver every event once, in order, and never let a stale holder commit',
    async () => {
      await fc.assert(fc.asyncProperty(fc.array(command, { maxLength: 60 }), run),
        { numRuns: 150 });
    });
});
