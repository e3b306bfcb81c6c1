import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDurableTaskError } from '../../../src/core/errors.ts';
import { createMemoryBackend } from '../../../src/memory/index.ts';
import { TaskHubClient } from '../../../src/runtime/task-hub-client.ts';
import { TaskHubWorker, type TaskHubWorkerOptions } from '../../../src/runtime/task-hub-worker.ts';
import { resolveWorkerOptions } from '../../../src/runtime/worker-options.ts';

/** Asserts INVALID_ARGUMENT naming the option and showing the value. */
function refuses(fn: () => unknown, option: string, shown: string): void {
  assert.throws(fn, (e) => {
    assert.ok(isDurableTaskError(e, 'INVALID_ARGUMENT'), String(e));
    assert.ok(e.message.includes(`'${option}'`), e.message);
    assert.ok(e.message.includes(shown), e.message);
    return true;
  });
}

const bad: [string, Partial<TaskHubWorkerOptions>, string, string][] = [
  ['receive timeout NaN', { receiveTimeoutMs: Number.NaN }, 'receiveTimeoutMs', 'NaN'],
  ['receive timeout -1', { receiveTimeoutMs: -1 }, 'receiveTimeoutMs', '-1'],
  ['receive timeout 0', { receiveTimeoutMs: 0 }, 'receiveTimeoutMs', 'got 0'],
  ['receive timeout past a timer', { receiveTimeoutMs: 2 ** 31 }, 'receiveTimeoutMs', '2147483648'],
  ['receive timeout as text', { receiveTimeoutMs: '5' as never }, 'receiveTimeoutMs', '"5"'],
  [
    'concurrency NaN',
    { maxConcurrentOrchestrations: Number.NaN },
    'maxConcurrentOrchestrations',
    'NaN',
  ],
  ['concurrency 0', { maxConcurrentOrchestrations: 0 }, 'maxConcurrentOrchestrations', 'got 0'],
  ['concurrency -1', { maxConcurrentActivities: -1 }, 'maxConcurrentActivities', '-1'],
  ['concurrency 1.5', { maxConcurrentActivities: 1.5 }, 'maxConcurrentActivities', '1.5'],
  [
    'no dispatcher loop',
    { orchestrationDispatcherCount: 0 },
    'orchestrationDispatcherCount',
    'got 0',
  ],
  [
    'a thousand dispatcher loops',
    { activityDispatcherCount: 1000 },
    'activityDispatcherCount',
    '1000',
  ],
  ['unknown-type retry NaN', { unknownTypeRetryMs: Number.NaN }, 'unknownTypeRetryMs', 'NaN'],
  ['stop timeout -5', { stopTimeoutMs: -5 }, 'stopTimeoutMs', '-5'],
  ['executor cache -1', { maxCachedExecutors: -1 }, 'maxCachedExecutors', '-1'],
  ['extended sessions as text', { extendedSessions: 'yes' as never }, 'extendedSessions', '"yes"'],
  [
    'middleware not functions',
    { orchestrationMiddleware: [1] as never },
    'orchestrationMiddleware',
    'array',
  ],
  [
    'versioning with other names',
    { versioning: { version: 5, matchStrategy: 'Nope' } as never },
    'versioning.matchStrategy',
    'Unknown TaskHubWorker option',
  ],
  [
    'versioning with a number',
    { versioning: { version: 5, match: 'strict', onMismatch: 'fail' } as never },
    'versioning.version',
    '5',
  ],
  [
    'versioning match unknown',
    { versioning: { version: '1', match: 'Nope', onMismatch: 'fail' } as never },
    'versioning.match',
    '"Nope"',
  ],
  [
    'versioning without onMismatch',
    { versioning: { version: '1', match: 'strict' } as never },
    'versioning.onMismatch',
    'undefined',
  ],
  ['clock without sleep', { clock: { now: () => 0 } as never }, 'clock', 'sleep()'],
  ['logger of the wrong kind', { logger: {} as never }, 'logger', 'child()'],
];

describe('TaskHubWorker options', () => {
  for (const [what, options, option, shown] of bad) {
    it(`should refuse ${what} with INVALID_ARGUMENT naming '${option}'`, () => {
      const backend = createMemoryBackend();
      refuses(() => new TaskHubWorker({ backend, ...options }), option, shown);
    });
  }

  it('should refuse a misspelled option, naming it and the option it misspells', () => {
    const backend = createMemoryBackend();
    assert.throws(
      () => new TaskHubWorker({ backend, recieveTimeoutMs: 5 } as never),
      (e) => {
        assert.ok(isDurableTaskError(e, 'INVALID_ARGUMENT'), String(e));
        assert.equal(
          e.message,
          "Unknown TaskHubWorker option 'recieveTimeoutMs' " +
            "(did you mean 'receiveTimeoutMs'?).",
        );
        return true;
      },
    );
    refuses(
      () => new TaskHubWorker({ backend, StopTimeoutMs: 5 } as never),
      'StopTimeoutMs',
      "did you mean 'stopTimeoutMs'?",
    );
    refuses(
      () => new TaskHubWorker({ backend, colour: 'red' } as never),
      'colour',
      'Unknown TaskHubWorker option',
    );
  });

  it('should refuse an unknown option before checking the others', () => {
    refuses(
      () => new TaskHubWorker({ bakend: createMemoryBackend() } as never),
      'bakend',
      "did you mean 'backend'?",
    );
  });

  it('should refuse a misspelled versioning option, naming it with its path', () => {
    const backend = createMemoryBackend();
    refuses(
      () =>
        new TaskHubWorker({
          backend,
          versioning: { version: '1', match: 'strict', onMismatch: 'fail', onmismatch: 'reject' },
        } as never),
      'versioning.onmismatch',
      "did you mean 'versioning.onMismatch'?",
    );
  });

  it('should refuse a missing backend and options that are not an object', () => {
    refuses(() => new TaskHubWorker({}), 'backend', 'undefined');
    assert.throws(
      () => new TaskHubWorker(null as never),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /object, got null/.test(e.message),
    );
  });

  it('should take counts not given from the service and keep the defaults', () => {
    const backend = createMemoryBackend({
      maxConcurrentActivityWorkItems: 7,
      orchestrationDispatcherCount: 2,
    });
    const o = resolveWorkerOptions({ backend, maxConcurrentOrchestrations: 3 });
    assert.equal(o.maxConcurrentOrchestrations, 3);
    assert.equal(o.maxConcurrentActivities, 7);
    assert.equal(o.orchestrationDispatcherCount, 2);
    assert.equal(o.receiveTimeoutMs, 30_000);
    assert.equal(o.stopTimeoutMs, 30_000);
    assert.equal(o.extendedSessions, true);
    assert.equal(o.maxCachedExecutors, 1000);
    assert.equal(o.versioning, undefined);
    assert.deepEqual(
      resolveWorkerOptions({
        backend,
        versioning: { version: '2', match: 'currentOrOlder', onMismatch: 'reject' },
      }).versioning,
      { version: '2', match: 'currentOrOlder', onMismatch: 'reject' },
    );
  });
});

describe('TaskHubClient options', () => {
  it('should refuse a missing backend, a client without its methods and a bad logger', () => {
    refuses(() => new TaskHubClient({}), 'backend', 'undefined');
    refuses(() => new TaskHubClient({ client: {} as never }), 'client', 'createOrchestration()');
    refuses(
      () => new TaskHubClient({ backend: createMemoryBackend(), logger: 5 as never }),
      'logger',
      '5',
    );
    assert.throws(
      () => new TaskHubClient('x' as never),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /object, got "x"/.test(e.message),
    );
  });

  it('should refuse a misspelled option, naming it and the option it misspells', () => {
    const backend = createMemoryBackend();
    refuses(
      () => new TaskHubClient({ backend, loger: 5 } as never),
      'loger',
      "Unknown TaskHubClient option 'loger' (did you mean 'logger'?).",
    );
    refuses(
      () => new TaskHubClient({ backend, service: backend.service } as never),
      'service',
      'Unknown TaskHubClient option',
    );
  });
});

describe('worker and client calls with a backend or options in the wrong place', () => {
  const refusedWith = (text: RegExp) => (e: unknown) =>
    isDurableTaskError(e, 'INVALID_ARGUMENT') && text.test((e as Error).message);

  it('should say to pass { backend } when given the backend itself', () => {
    const backend = createMemoryBackend();
    assert.throws(
      () => new TaskHubClient(backend as never),
      refusedWith(/new TaskHubClient\(\{ backend \}\), not the backend itself/),
    );
    assert.throws(
      () => new TaskHubWorker(backend as never),
      refusedWith(/new TaskHubWorker\(\{ backend \}\), not the backend itself/),
    );
  });

  it('should refuse misspelled registration and stop options', async () => {
    const backend = createMemoryBackend();
    const worker = new TaskHubWorker({ backend });
    const noop = function* () {
      return 1;
    };
    assert.throws(
      () => worker.addOrchestration('O', noop, { verison: '2' } as never),
      refusedWith(/Unknown addOrchestration option 'verison' \(did you mean 'version'\?\)/),
    );
    assert.throws(
      () => worker.addActivity('A', () => 1, { versoin: '2' } as never),
      refusedWith(/Unknown addActivity option 'versoin'/),
    );
    worker.addOrchestration('O', noop, null as never).addActivity('A', () => 1, { version: 'v' });
    await assert.rejects(
      worker.stop({ forcd: true } as never),
      refusedWith(/Unknown TaskHubWorker.stop option 'forcd' \(did you mean 'forced'\?\)/),
    );
    await assert.rejects(
      backend.service.stop({ force: true } as never),
      refusedWith(/Unknown stop option 'force' \(did you mean 'forced'\?\)/),
    );
    await assert.rejects(
      backend.service.create({ recreate: true } as never),
      refusedWith(/Unknown create option 'recreate' \(did you mean 'recreateInstanceStore'\?\)/),
    );
    await assert.rejects(
      backend.service.delete({ deleteInstanceStore: 'yes' } as never),
      refusedWith(/delete option 'deleteInstanceStore' must be true or false/),
    );
    await worker.stop();
    await backend.close();
  });
});
