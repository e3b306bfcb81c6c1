import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDurableTaskError } from '../../../src/core/errors.ts';
import { createMemoryBackend, type MemoryBackendOptions } from '../../../src/memory/index.ts';

const bad: [string, Partial<MemoryBackendOptions>, string, string][] = [
  ['a lock past a timer', { orchestrationLockMs: 2 ** 31 }, 'orchestrationLockMs',
    '2147483648'],
  ['an activity lock of NaN', { activityLockMs: Number.NaN }, 'activityLockMs', 'NaN'],
  ['a fractional batch', { maxBatchMessages: 1.5 }, 'maxBatchMessages', '1.5'],
  ['an unknown dedupe rule', { dedupeRule: 'bogus' as never }, 'dedupeRule', '"bogus"'],
  ['a negative fetch delay', { fetchErrorDelayMs: -1 }, 'fetchErrorDelayMs', '-1'],
  ['a drain timeout past a timer', { drainTimeoutMs: 1e12 }, 'drainTimeoutMs', '1000000000000'],
  ['a thousand dispatcher loops', { activityDispatcherCount: 1000 }, 'activityDispatcherCount',
    '1000'],
  ['a clock without sleep', { clock: { now: () => 0 } as never }, 'clock', 'sleep()'],
  ['a logger of the wrong kind', { logger: 'x' as never }, 'logger', '"x"'],
  ['faults that are not an object', { faults: 1 as never }, 'faults', 'got 1'],
];

describe('createMemoryBackend options', () => {
  for (const [what, options, option, shown] of bad) {
    it(`should refuse ${what} with INVALID_ARGUMENT naming '${option}'`, () => {
      assert.throws(() => createMemoryBackend(options), (e) => {
        assert.ok(isDurableTaskError(e, 'INVALID_ARGUMENT'), String(e));
        assert.ok(e.message.includes(`'${option}'`), e.message);
        assert.ok(e.message.includes(shown), e.message);
        return true;
      });
    });
  }

  const unknown: [string, object, string][] = [
    ['a misspelled lock length', { orchestrationLockMS: 5 },
      "Unknown Memory backend option 'orchestrationLockMS' (did you mean 'orchestrationLockMs'?)."],
    ['a NATS backend option', { leaseMs: 1000 }, "Unknown Memory backend option 'leaseMs'."],
    ['a NATS-only fault hook', { faults: { pauseLeases: () => true } },
      "Unknown Memory backend option 'faults.pauseLeases'."],
    ['a misspelled fault hook', { faults: { failActivityRenewal: 1 } },
      "Unknown Memory backend option 'faults.failActivityRenewal' " +
      "(did you mean 'faults.failActivityRenewals'?)."],
  ];
  for (const [what, options, message] of unknown) {
    it(`should refuse ${what} with INVALID_ARGUMENT naming it`, () => {
      assert.throws(() => createMemoryBackend(options), (e) => {
        assert.ok(isDurableTaskError(e, 'INVALID_ARGUMENT'), String(e));
        assert.equal(e.message, message);
        return true;
      });
    });
  }

  it('should refuse a misspelled option of a backend that shares a hub', async () => {
    const first = createMemoryBackend();
    try {
      assert.throws(() => createMemoryBackend({ shareStoreWith: first, hubb: 'x' } as never),
        (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') &&
          e.message === "Unknown Memory backend option 'hubb' (did you mean 'hub'?).");
    } finally {
      await first.close();
    }
  });

  it('should take every documented option and fault hook', async () => {
    const b = createMemoryBackend({ hub: 'all', orchestrationLockMs: 1000, activityLockMs: 1000,
      maxBatchMessages: 5, maxMessagesPerCheckpoint: 0, dedupeRule: 'legacy', maxDeliveries: 3,
      orchestrationDispatcherCount: 1, maxConcurrentOrchestrationWorkItems: 2,
      activityDispatcherCount: 1, maxConcurrentActivityWorkItems: 2,
      eventBehaviourForContinueAsNew: 'ignore', abandonBackoffMs: 10, maxAbandonBackoffMs: 20,
      fetchErrorDelayMs: 1, processErrorDelayMs: 1, drainTimeoutMs: 1,
      faults: { failCheckpoints: 0, failActivityCompletions: 0, failOrchestrationRenewals: 0,
        failActivityRenewals: 0, beforeCheckpoint: () => undefined,
        beforeActivityCompletion: () => undefined } });
    await b.close();
  });

  it('should refuse options that are not an object', () => {
    assert.throws(() => createMemoryBackend(7 as never),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /object, got 7/.test(e.message));
  });
});
