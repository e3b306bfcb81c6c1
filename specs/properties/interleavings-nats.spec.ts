import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import type { OrchestrationWorkItem } from '../../src/core/work-item.ts';
import { createNatsBackend, type NatsBackend } from '../../src/nats/index.ts';
import { buildEpisode, PLAIN_OUTCOME } from '../../src/testing/episode-builder.ts';
import { startTestNatsServer, uniqueHubName, type TestNatsServer } from '../support/nats-server.ts';
import { assertProperty, budget, budgetLevel } from './support/fc-budget.ts';

// The interleavings of interleavings.spec.ts on JetStream. Calls there are network round
// trips, so instead of fc.scheduler a generated permutation orders the steps and each step
// runs to its end before the next: A's checkpoint held at its commit point by the
// beforeCheckpoint hook and released by the `commit` step, the lapse of A's work-item
// lock (real time, 1.5 s lease), A locking the instance again, renew, abandon, release,
// the second holder's checkpoint and a client event. Whatever the order:
// INV-1 the instance comes back only after A's lock lapsed or A gave it up;
// INV-2 A's checkpoint fails when its lock lapsed, was given up or was taken before the
// commit step; INV-3/4/8 after a drain every event was consumed once, in send order.

const LEASE_MS = 1_500;
const STEP_TIMEOUT_MS = 10_000;

type Optional = 'a.renew' | 'a.abandon' | 'a.release' | 'b.complete' | 'b.release' | 'send';
const OPTIONAL: readonly Optional[] = [
  'a.renew',
  'a.abandon',
  'a.release',
  'b.complete',
  'b.release',
  'send',
];
const MANDATORY = ['a.complete', 'commit', 'lapse', 'b.lock'] as const;
type StepName = Optional | (typeof MANDATORY)[number];

const orderArb: fc.Arbitrary<StepName[]> = fc.subarray([...OPTIONAL]).chain((optional) => {
  const all: StepName[] = [...MANDATORY, ...optional];
  return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
});

function raise(name: string) {
  return taskMessage(newEvent({ type: 'EventRaised', name }), { instanceId: 'x' });
}

async function complete(backend: NatsBackend, item: OrchestrationWorkItem): Promise<void> {
  const episode = buildEpisode({
    instanceId: item.instanceId,
    messages: item.newMessages,
    past: [...item.orchestrationRuntimeState.events],
    customStatus: undefined,
    now: Date.now(),
    outcome: PLAIN_OUTCOME,
    targets: [],
    liveTargets: [],
    timerBaseMs: LEASE_MS,
    ids: { execution: () => 'unused', event: () => 'unused', child: () => 'unused' },
  });
  item.orchestrationRuntimeState = episode.original;
  await backend.service.completeOrchestrationWorkItem(item, episode.completion);
}

/** Settles with true (done), false (LOCK_LOST / SESSION_ABORTED) or throws anything else. */
async function outcome(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return true;
  } catch (err) {
    if (isDurableTaskError(err, 'LOCK_LOST') || isDurableTaskError(err, 'SESSION_ABORTED')) {
      return false;
    }
    throw err;
  }
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took over ${STEP_TIMEOUT_MS} ms`)),
      STEP_TIMEOUT_MS,
    );
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

async function interleave(url: string, order: readonly StepName[]): Promise<void> {
  const a = await createNatsBackend({
    servers: url,
    hub: uniqueHubName('il'),
    partitions: 1,
    leaseMs: LEASE_MS,
  });
  try {
    await a.service.createIfNotExists();
    await a.service.start();
    const start = newEvent({
      type: 'ExecutionStarted',
      name: 'N',
      version: '',
      orchestrationInstance: { instanceId: 'x', executionId: 'x1' },
    });
    await a.client.createOrchestration(taskMessage(start, { instanceId: 'x', executionId: 'x1' }));
    const sent = ['e0', 'e1'];
    for (const name of sent) await a.client.sendOrchestrationMessage(raise(name));
    const held = await a.service.lockNextOrchestrationWorkItem(STEP_TIMEOUT_MS);
    assert.ok(held, 'A could not lock the instance');

    let gateOpen = false;
    let openGate = (): void => {
      gateOpen = true;
    };
    let entered = (): void => {};
    const atGate = new Promise<void>((r) => {
      entered = r;
    });
    a.faults.beforeCheckpoint = (item) => {
      if (item !== held || gateOpen) return;
      entered();
      return new Promise<void>((r) => {
        openGate = () => {
          gateOpen = true;
          r();
        };
      });
    };

    let aComplete: Promise<boolean> | undefined;
    let second: OrchestrationWorkItem | null = null;
    const done: Done[] = [];
    for (const step of order) {
      let ok = true;
      switch (step) {
        case 'a.complete':
          aComplete = outcome(complete(a, held));
          await within(Promise.race([atGate, aComplete]), 'reaching the commit point');
          break;
        case 'commit':
          openGate();
          if (aComplete) ok = await within(aComplete, 'the held checkpoint');
          break;
        case 'lapse':
          // Past the deadline and the lapse sweep: the batch is free again.
          await new Promise((r) =>
            setTimeout(r, Math.max(0, held.lockedUntil.getTime() - Date.now()) + 900),
          );
          break;
        case 'b.lock':
          second = await a.service.lockNextOrchestrationWorkItem(2_000);
          ok = second !== null;
          break;
        case 'a.renew':
          ok = await outcome(a.service.renewOrchestrationWorkItemLock(held));
          break;
        case 'a.abandon':
          ok = await outcome(a.service.abandonOrchestrationWorkItem(held));
          break;
        case 'a.release':
          await a.service.releaseOrchestrationWorkItem(held);
          break;
        case 'b.complete':
          ok = second ? await outcome(complete(a, second)) : false;
          break;
        case 'b.release':
          if (second) await a.service.releaseOrchestrationWorkItem(second);
          break;
        case 'send':
          sent.push('e2');
          await a.client.sendOrchestrationMessage(raise('e2'));
          break;
      }
      done.push({ step, ok, lapsed: Date.now() >= held.lockedUntil.getTime() });
    }
    openGate();
    const aOk = aComplete ? await within(aComplete, 'the held checkpoint') : false;
    checkOrder(done, aOk);
    a.faults.beforeCheckpoint = undefined;
    await drain(a, [held, second], sent);
  } finally {
    await a.service.stop({ forced: true }).catch(() => undefined);
    await a.close();
  }
}

interface Done {
  readonly step: StepName;
  readonly ok: boolean;
  /** A's lock deadline had passed when the step ended (a step may wait in real time). */
  readonly lapsed: boolean;
}

/** INV-1 and INV-2 from the order of the steps. */
function checkOrder(done: readonly Done[], aOk: boolean): void {
  const at = (pred: (d: Done) => boolean): number => done.findIndex(pred);
  const trace = done.map((d) => `${d.step}${d.ok ? '' : '(no)'}`).join(' > ');
  const gaveUp = at(
    (d) => d.step === 'lapse' || ((d.step === 'a.abandon' || d.step === 'a.release') && d.ok),
  );
  const relock = at((d) => d.step === 'b.lock' && d.ok);
  const commit = Math.max(
    at((d) => d.step === 'commit'),
    at((d) => d.step === 'a.complete'),
  );
  if (relock >= 0) {
    const free = (gaveUp >= 0 && gaveUp < relock) || done[relock]!.lapsed;
    assert.ok(free, `INV-1: the instance came back while A held it: ${trace}`);
  }
  const lost = [gaveUp, relock].filter((i) => i >= 0);
  if (aOk && lost.some((i) => i < commit)) {
    assert.fail(`INV-2: A's checkpoint succeeded after its lock was lost: ${trace}`);
  }
}

/** Consumes what is left; every event exactly once, in order. */
async function drain(
  a: NatsBackend,
  items: readonly (OrchestrationWorkItem | null)[],
  sent: readonly string[],
): Promise<void> {
  for (const item of items) if (item) await a.service.releaseOrchestrationWorkItem(item);
  const deadline = Date.now() + 30_000;
  let quiet = 0;
  while (Date.now() < deadline && quiet < 2) {
    const item = await a.service.lockNextOrchestrationWorkItem(1_000);
    if (!item) {
      quiet++;
      continue;
    }
    quiet = 0;
    await outcome(complete(a, item));
    await a.service.releaseOrchestrationWorkItem(item);
  }
  const history = await a.client.getOrchestrationHistory('x');
  const raised = history.flatMap((e) => (e.type === 'EventRaised' ? [e.name] : []));
  assert.deepEqual(raised, sent, 'INV-3/4/8: every event consumed once, in send order');
  assert.equal(history.filter((e) => e.type === 'ExecutionStarted').length, 1);
}

describe('interleavings of calls on one instance: nats backend', () => {
  let server: TestNatsServer | undefined;
  before(async () => {
    server = await startTestNatsServer();
  });
  after(() => server?.stop());

  it(
    'INV-1/INV-2 nats: any order of commit point, lapse, relock, renew, abandon and release ' +
      'keeps one holder and one commit',
    { timeout: (budgetLevel() === 'long' ? 60 : 5) * 60_000 },
    async (t) => {
      await assertProperty(
        fc.asyncProperty(orderArb, (order) => interleave(server!.url, order)),
        { ...budget(t, { ci: 4, long: 60 }), endOnFailure: true },
      );
    },
  );
});
