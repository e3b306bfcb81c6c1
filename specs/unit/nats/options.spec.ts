import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDurableTaskError } from '../../../src/core/errors.ts';
import { resolveNatsOptions, type NatsBackendOptions } from '../../../src/nats/options.ts';

const bad: [string, Partial<NatsBackendOptions>, string, string][] = [
  ['a fractional activity prefetch', { activityPrefetch: 1.5 }, 'activityPrefetch', '1.5'],
  ['a fractional partition prefetch', { prefetchPerPartition: 2.5 }, 'prefetchPerPartition',
    '2.5'],
  ['a fractional work-item size', { maxMessagesPerWorkItem: 1.5 }, 'maxMessagesPerWorkItem',
    '1.5'],
  ['a fractional delivery limit', { maxDeliveries: 1.5 }, 'maxDeliveries', '1.5'],
  ['a fractional checkpoint cap', { maxMessagesPerCheckpoint: 0.5 }, 'maxMessagesPerCheckpoint',
    '0.5'],
  ['a lease past a timer', { leaseMs: 1e10 }, 'leaseMs', '10000000000'],
  ['a lease of NaN', { leaseMs: Number.NaN }, 'leaseMs', 'NaN'],
  ['a lease of 10 ms', { leaseMs: 10 }, 'leaseMs', 'got 10'],
  ['an activity lock past a timer', { activityLockMs: 1e12 }, 'activityLockMs',
    '1000000000000'],
  ['a duplicate window past a timer', { duplicateWindowMs: 1e12 }, 'duplicateWindowMs',
    '1000000000000'],
  ['no partitions', { partitions: 0 }, 'partitions', 'got 0'],
  ['2000 partitions', { partitions: 2000 }, 'partitions', '2000'],
  ['six replicas', { replicas: 6 }, 'replicas', '6'],
  ['a gigabyte payload limit', { payloadLimitBytes: 1e9 }, 'payloadLimitBytes', '1000000000'],
  ['an unknown dedupe rule', { dedupeRule: 'bogus' as never }, 'dedupeRule', '"bogus"'],
  ['a worker id with dots', { workerId: 'a.b.*' }, 'workerId', '"a.b.*"'],
  ['an empty worker id', { workerId: '' }, 'workerId', '""'],
  ['no servers', { servers: [] }, 'servers', 'array of 0'],
  ['a server that is not text', { servers: [5] as never }, 'servers', 'array of 1'],
  ['a dispatcher count of 1000', { orchestrationDispatcherCount: 1000 },
    'orchestrationDispatcherCount', '1000'],
  ['a fractional concurrency', { maxConcurrentActivityWorkItems: 1.5 },
    'maxConcurrentActivityWorkItems', '1.5'],
  ['a connection that is not one', { connection: {} as never }, 'connection', 'isClosed()'],
  ['faults that are not an object', { faults: 3 as never }, 'faults', '3'],
];

describe('resolveNatsOptions', () => {
  for (const [what, options, option, shown] of bad) {
    it(`should refuse ${what} with INVALID_ARGUMENT naming '${option}'`, () => {
      assert.throws(() => resolveNatsOptions({ hub: 'h', ...options }), (e) => {
        assert.ok(isDurableTaskError(e, 'INVALID_ARGUMENT'), String(e));
        assert.ok(e.message.includes(`'${option}'`), e.message);
        assert.ok(e.message.includes(shown), e.message);
        return true;
      });
    });
  }

  const unknown: [string, object, string][] = [
    ['a lease in the wrong case', { leasems: 100 },
      "Unknown NATS backend option 'leasems' (did you mean 'leaseMs'?)."],
    ['a misspelled partition count', { partitons: 2 },
      "Unknown NATS backend option 'partitons' (did you mean 'partitions'?)."],
    ['a memory backend option', { orchestrationLockMs: 1000 },
      "Unknown NATS backend option 'orchestrationLockMs'."],
    ['a misspelled fault hook', { faults: { failCheckpoint: 1 } },
      "Unknown NATS backend option 'faults.failCheckpoint' " +
      "(did you mean 'faults.failCheckpoints'?)."],
    ['two unknown names', { hubb: 'x', serverss: 'y' }, "Unknown NATS backend options 'hubb' " +
      "(did you mean 'hub'?), 'serverss' (did you mean 'servers'?)."],
  ];
  for (const [what, options, message] of unknown) {
    it(`should refuse ${what} with INVALID_ARGUMENT naming it`, () => {
      assert.throws(() => resolveNatsOptions({ hub: 'h', ...options }), (e) => {
        assert.ok(isDurableTaskError(e, 'INVALID_ARGUMENT'), String(e));
        assert.equal(e.message, message);
        return true;
      });
    });
  }

  it('should take every fault hook NATS documents', () => {
    const hooks = {
      failCheckpoints: 1, failActivityCompletions: 1, failOrchestrationRenewals: 1,
      failActivityRenewals: 1, beforeCheckpoint: () => undefined,
      beforeActivityCompletion: () => undefined, afterCommit: () => 'continue' as const,
      beforeCommitPublish: () => undefined, beforeRelay: () => 'continue' as const,
      pauseLeases: () => false,
    };
    assert.deepEqual(Object.keys(resolveNatsOptions({ hub: 'h', faults: hooks }).faults),
      Object.keys(hooks));
  });

  it('should keep the defaults and derive renewal timing from the lease', () => {
    const o = resolveNatsOptions({ hub: 'h', servers: 'nats://127.0.0.1:4222' });
    assert.deepEqual(o.servers, ['nats://127.0.0.1:4222']);
    assert.equal(o.partitions, 16);
    assert.equal(o.leaseMs, 10_000);
    assert.equal(o.renewIntervalMs, 3_000);
    assert.equal(o.activityLockMs, 30_000);
    assert.equal(o.dedupeRule, 'default');
    assert.match(o.workerId, /^[A-Za-z0-9_-]+$/);
    const longest = resolveNatsOptions({ hub: 'h', leaseMs: 2 ** 31 - 1 });
    assert.ok(longest.renewIntervalMs <= 2 ** 31 - 1);
  });
});
