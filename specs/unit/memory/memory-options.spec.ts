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

  it('should refuse options that are not an object', () => {
    assert.throws(() => createMemoryBackend(7 as never),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /object, got 7/.test(e.message));
  });
});
