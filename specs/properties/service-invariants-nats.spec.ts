import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import type { NatsBackend } from '../../src/nats/index.ts';
import { checkOrchestrationServiceInvariants } from '../../src/testing/conformance-kit.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import {
  checkpoint,
  closeAll,
  create,
  EMPTY_MS,
  RECEIVE_MS,
  startedBackend,
} from '../nats/helpers.ts';
import { budget, budgetLevel, INVARIANT_TITLES } from './support/fc-budget.ts';
import { natsTarget } from './support/targets.ts';

// The same model-based properties on JetStream, on real time with 1.5 s leases: few runs
// of short command sequences in CI, a fresh hub per run, one nats-server for the file.

const RUNS = { ci: 2, long: 40 };
// Generated activity abandons include stale holders' (after completion or a lapsed lock).
const FEATURES = { staleActivityAbandons: true };
// A safety net only: the CI budget takes seconds per property, the long one minutes.
const TIMEOUT_MS = (budgetLevel() === 'long' ? 90 : 10) * 60_000;

const MIXED = 'model-based: random commands keep INV-1..INV-9, every message consumed once';

describe('orchestration service invariants: nats backend', () => {
  let server: TestNatsServer | undefined;
  const backends: NatsBackend[] = [];
  afterEach(() => closeAll(backends));
  const url = (): string => {
    if (!server) throw new Error('nats-server not started');
    return server.url;
  };

  before(async () => {
    server = await startTestNatsServer();
  });
  after(() => server?.stop());

  for (const [id, title] of INVARIANT_TITLES) {
    it(`${id} ${title}`, { timeout: TIMEOUT_MS }, async (t) => {
      await checkOrchestrationServiceInvariants({
        ...natsTarget(url),
        ...budget(t, RUNS),
        focus: id,
        features: FEATURES,
      });
    });
  }

  it(MIXED, { timeout: TIMEOUT_MS }, async (t) => {
    await checkOrchestrationServiceInvariants({
      ...natsTarget(url),
      ...budget(t, { ci: 3, long: 60 }),
      focus: 'all',
      maxCommands: 24,
      features: FEATURES,
    });
  });

  it(
    "INV-7 nats: a completed or lapsed holder's activity abandon fails with LOCK_LOST and " +
      'leaves the message to its current holder',
    { timeout: 60_000 },
    async () => {
      // The kit's counterexample (seed 2121651975) in plain steps, on 1 s activity locks.
      const b = await startedBackend(url(), backends, { partitions: 1, activityLockMs: 1_000 });
      const owner = await create(b, 'stale-abandon');
      const wi = await b.service.lockNextOrchestrationWorkItem(RECEIVE_MS);
      assert.ok(wi);
      const scheduled = (id: number) =>
        taskMessage(
          newEvent({ type: 'TaskScheduled', eventId: id, name: 'W', version: '' }),
          owner,
        );
      await checkpoint(b, wi, {
        events: [0, 1].map((id) => ({
          type: 'TaskScheduled',
          eventId: id,
          name: 'W',
          version: '',
        })),
        activityMessages: [scheduled(0), scheduled(1)],
      });
      await b.service.releaseOrchestrationWorkItem(wi);

      const done = await b.service.lockNextActivityWorkItem(RECEIVE_MS);
      assert.ok(done);
      await b.service.completeActivityWorkItem(
        done,
        taskMessage(
          newEvent({
            type: 'TaskCompleted',
            taskScheduledId: done.taskMessage.event.eventId,
            result: '1',
          }),
          owner,
        ),
      );
      await assert.rejects(
        b.service.abandonActivityWorkItem(done),
        (e) => isDurableTaskError(e, 'LOCK_LOST'),
        "the completed holder's abandon succeeded",
      );

      const first = await b.service.lockNextActivityWorkItem(RECEIVE_MS);
      assert.ok(first);
      // The first holder stops renewing: the message comes back to a second holder.
      const second = await b.service.lockNextActivityWorkItem(RECEIVE_MS);
      assert.ok(second, 'the lapsed activity was not handed out again');
      assert.equal(second.taskMessage.event.eventId, first.taskMessage.event.eventId);
      await b.service.renewActivityWorkItemLock(second);
      await assert.rejects(
        b.service.abandonActivityWorkItem(first),
        (e) => isDurableTaskError(e, 'LOCK_LOST'),
        "the lapsed holder's abandon succeeded",
      );
      // Its abandon touched nothing: no third holder while the second's lock runs.
      assert.equal(await b.service.lockNextActivityWorkItem(EMPTY_MS / 2), null);
      await b.service.abandonActivityWorkItem(second);
      await b.service.abandonActivityWorkItem(second);
      const third = await b.service.lockNextActivityWorkItem(RECEIVE_MS);
      assert.ok(third, "the second holder's abandon did not give the activity back");
      assert.equal(third.taskMessage.event.eventId, first.taskMessage.event.eventId);
    },
  );
});
