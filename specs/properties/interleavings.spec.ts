import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Backend } from '../../src/core/backend.ts';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import type { OrchestrationWorkItem } from '../../src/core/work-item.ts';
import { createMemoryBackend, type MemoryBackend } from '../../src/memory/index.ts';
import { buildEpisode, PLAIN_OUTCOME } from '../../src/testing/episode-builder.ts';
import { ManualClock } from '../../src/testing/manual-clock.ts';
import { assertProperty, budget } from './support/fc-budget.ts';

// fc.scheduler decides the order in which concurrent calls on one instance start, and
// when a checkpoint held at its commit point (the memory backend's beforeCheckpoint hook)
// goes on: worker A's complete, renew, abandon and release, the lapse of A's lock, worker
// B's lock, complete and release, and a client event. Whatever the order:
// INV-1 B gets the instance only after A's lock lapsed or A gave it up;
// INV-2 A's complete fails when the lock lapsed, was given up or was taken before it
// reached its commit point; INV-3/4/8 after a drain every event was consumed once, in order.
// interleavings-nats.spec.ts runs the same steps on JetStream.

const LOCK_MS = 10_000;

type Optional = 'a.renew' | 'a.abandon' | 'a.release' | 'b.complete' | 'b.release' | 'send';
const OPTIONAL: readonly Optional[] = [
  'a.renew',
  'a.abandon',
  'a.release',
  'b.complete',
  'b.release',
  'send',
];

interface Entry {
  what: string;
  ok?: boolean;
}

interface World {
  readonly clock: ManualClock;
  readonly a: MemoryBackend;
  readonly b: MemoryBackend;
  readonly log: Entry[];
  readonly sent: string[];
}

function raise(name: string) {
  return taskMessage(newEvent({ type: 'EventRaised', name }), { instanceId: 'x' });
}

async function complete(backend: Backend, item: OrchestrationWorkItem, now: number) {
  const episode = buildEpisode({
    instanceId: item.instanceId,
    messages: item.newMessages,
    past: [...item.orchestrationRuntimeState.events],
    customStatus: undefined,
    now,
    outcome: PLAIN_OUTCOME,
    targets: [],
    liveTargets: [],
    timerBaseMs: LOCK_MS,
    ids: { execution: () => 'unused', event: () => 'unused', child: () => 'unused' },
  });
  item.orchestrationRuntimeState = episode.original;
  await backend.service.completeOrchestrationWorkItem(item, episode.completion);
}

/** Runs `fn` now (its synchronous effect happens here), logs it and records how it ended. */
async function call(
  log: Entry[],
  what: string,
  fn: (entry: Entry) => Promise<unknown>,
): Promise<void> {
  const entry: Entry = { what };
  log.push(entry);
  try {
    await fn(entry);
    entry.ok = true;
  } catch (err) {
    if (!isDurableTaskError(err, 'LOCK_LOST')) throw err;
    entry.ok = false;
  }
}

async function setUp(): Promise<World> {
  const clock = new ManualClock();
  const a = createMemoryBackend({
    clock,
    hub: 'sched',
    orchestrationLockMs: LOCK_MS,
    abandonBackoffMs: 0,
  });
  const b = createMemoryBackend({ shareStoreWith: a });
  for (const backend of [a, b]) {
    await backend.service.createIfNotExists();
    await backend.service.start();
  }
  const start = newEvent({
    type: 'ExecutionStarted',
    name: 'N',
    version: '',
    orchestrationInstance: { instanceId: 'x', executionId: 'x1' },
  });
  await a.client.createOrchestration(taskMessage(start, { instanceId: 'x', executionId: 'x1' }));
  const sent = ['e0', 'e1', 'e2'];
  for (const name of sent) await a.client.sendOrchestrationMessage(raise(name));
  return { clock, a, b, log: [], sent };
}

async function interleave(s: fc.Scheduler, optional: readonly Optional[]): Promise<void> {
  const w = await setUp();
  const { a, b, clock, log } = w;
  try {
    const held = await a.service.lockNextOrchestrationWorkItem(0);
    assert.ok(held, 'A could not lock the instance');
    let bItem: OrchestrationWorkItem | null = null;
    a.faults.beforeCheckpoint = () =>
      s
        .schedule(Promise.resolve(), 'a.commit-point')
        .then(() => void log.push({ what: 'a.commit-point' }));
    const actions: Record<string, () => Promise<void>> = {
      'a.complete': () => call(log, 'a.complete', () => complete(a, held, clock.now())),
      expire: async () => {
        log.push({ what: 'expire' });
        clock.advance(LOCK_MS + 1);
      },
      'b.lock': () =>
        call(log, 'b.lock', async (entry) => {
          bItem = await b.service.lockNextOrchestrationWorkItem(0);
          if (!bItem) entry.what = 'b.lock (nothing)';
        }),
      'a.renew': () => call(log, 'a.renew', () => a.service.renewOrchestrationWorkItemLock(held)),
      'a.abandon': () => call(log, 'a.abandon', () => a.service.abandonOrchestrationWorkItem(held)),
      'a.release': () => call(log, 'a.release', () => a.service.releaseOrchestrationWorkItem(held)),
      'b.complete': () =>
        bItem ? call(log, 'b.complete', () => complete(b, bItem!, clock.now())) : Promise.resolve(),
      'b.release': () =>
        bItem
          ? call(log, 'b.release', () => b.service.releaseOrchestrationWorkItem(bItem!))
          : Promise.resolve(),
      send: async () => {
        w.sent.push('e3');
        await call(log, 'send', () => a.client.sendOrchestrationMessage(raise('e3')));
      },
    };
    const names = ['a.complete', 'expire', 'b.lock', ...optional];
    const runs = names.map((n) => s.schedule(Promise.resolve(), n).then(actions[n]));
    await s.waitAll();
    await Promise.all(runs);
    checkOrder(log);
    a.faults.beforeCheckpoint = undefined;
    await drain(w, [held, bItem]);
  } finally {
    await b.close();
    await a.close();
  }
}

/** INV-1 and INV-2 from the order in which the effects happened. */
function checkOrder(log: readonly Entry[]): void {
  const index = (pred: (e: Entry) => boolean): number => log.findIndex(pred);
  const gaveUp = index(
    (e) =>
      e.what === 'expire' || ((e.what === 'a.abandon' || e.what === 'a.release') && e.ok === true),
  );
  const bLock = index((e) => e.what === 'b.lock');
  if (bLock >= 0 && log[bLock]!.ok) {
    assert.ok(
      gaveUp >= 0 && gaveUp < bLock,
      `INV-1: B locked the instance while A held it: ` + log.map((e) => e.what).join(' > '),
    );
  }
  const commitPoint = index((e) => e.what === 'a.commit-point');
  const completed = log.find((e) => e.what === 'a.complete');
  const lostBefore = gaveUp >= 0 && (commitPoint < 0 || gaveUp < commitPoint);
  const bBefore = bLock >= 0 && log[bLock]!.ok && (commitPoint < 0 || bLock < commitPoint);
  if (completed?.ok && (lostBefore || bBefore)) {
    assert.fail(
      `INV-2: A's checkpoint succeeded after its lock was lost: ` +
        log.map((e) => `${e.what}${e.ok === false ? '(refused)' : ''}`).join(' > '),
    );
  }
}

/** Lets every lock lapse and consumes what is left; every event exactly once, in order. */
async function drain(w: World, items: readonly (OrchestrationWorkItem | null)[]): Promise<void> {
  for (const [i, item] of items.entries()) {
    if (item) await (i === 0 ? w.a : w.b).service.releaseOrchestrationWorkItem(item);
  }
  for (let round = 0; round < 20; round++) {
    w.clock.advance(LOCK_MS + 1);
    const item = await w.a.service.lockNextOrchestrationWorkItem(0);
    if (!item) break;
    await complete(w.a, item, w.clock.now());
    await w.a.service.releaseOrchestrationWorkItem(item);
  }
  const history = await w.a.client.getOrchestrationHistory('x');
  const raised = history.flatMap((e) => (e.type === 'EventRaised' ? [e.name] : []));
  assert.deepEqual(raised, w.sent, 'INV-3/4/8: every event consumed once, in send order');
  assert.equal(history.filter((e) => e.type === 'ExecutionStarted').length, 1);
}

describe('interleavings of concurrent calls on one instance: memory backend', () => {
  it(
    'INV-1/INV-2 memory: any order of lock, complete, renew, abandon, release and lapse ' +
      'keeps one holder and one commit',
    async (t) => {
      await assertProperty(
        fc.asyncProperty(fc.scheduler(), fc.subarray([...OPTIONAL]), interleave),
        budget(t, { ci: 300, long: 10_000 }),
      );
    },
  );
});
