import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { isDurableTaskError } from '../../../src/core/errors.ts';
import { createMemoryBackend } from '../../../src/memory/index.ts';
import { TaskHubClient } from '../../../src/runtime/task-hub-client.ts';

async function openClient(t: TestContext): Promise<TaskHubClient> {
  const backend = createMemoryBackend({ hub: 'checks' });
  t.after(() => backend.close());
  await backend.service.createIfNotExists();
  return new TaskHubClient({ backend });
}

/** Asserts INVALID_ARGUMENT with exactly this message. */
function refused(message: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isDurableTaskError(e, 'INVALID_ARGUMENT'), String(e));
    assert.equal(e.message, message);
    return true;
  };
}

describe('TaskHubClient method checks', () => {
  it('should refuse a misspelled option of each method, suggesting the known one', async (t) => {
    const client = await openClient(t);
    await client.createOrchestrationInstance('O', { instanceId: 'x' });
    await assert.rejects(
      client.createOrchestrationInstance('O', { instanceID: 'y' } as never),
      refused(
        "Unknown createOrchestrationInstance option 'instanceID' " +
          "(did you mean 'instanceId'?).",
      ),
    );
    await assert.rejects(
      client.createOrchestrationInstance('O', { initialEvent: { name: 'e', date: 1 } } as never),
      refused(
        "Unknown createOrchestrationInstance option 'initialEvent.date' " +
          "(did you mean 'initialEvent.data'?).",
      ),
    );
    await assert.rejects(
      client.waitForOrchestration('x', { timeout: 5 } as never),
      refused("Unknown waitForOrchestration option 'timeout' (did you mean 'timeoutMs'?)."),
    );
    await assert.rejects(
      client.waitForOrchestration('x', { timeoutms: 5 } as never),
      refused("Unknown waitForOrchestration option 'timeoutms' (did you mean 'timeoutMs'?)."),
    );
    await assert.rejects(
      client.raiseEvent('x', 'e', 1, { executionID: 'e' } as never),
      refused("Unknown raiseEvent option 'executionID' (did you mean 'executionId'?)."),
    );
    await assert.rejects(
      client.terminate('x', 'r', { recursiv: true } as never),
      refused("Unknown terminate option 'recursiv' (did you mean 'recursive'?)."),
    );
    await assert.rejects(
      client.getOrchestrationState('x', { instance: 'e' } as never),
      refused("Unknown getOrchestrationState option 'instance'."),
    );
    await assert.rejects(
      client.purgeInstance('x', { Recursive: true } as never),
      refused("Unknown purgeInstance option 'Recursive' (did you mean 'recursive'?)."),
    );
  });

  it('should refuse a recursive flag that is not a boolean', async (t) => {
    const client = await openClient(t);
    await client.createOrchestrationInstance('O', { instanceId: 'x' });
    await assert.rejects(
      client.terminate('x', 'r', { recursive: 'yes' } as never),
      refused("terminate option 'recursive' must be true or false, got yes."),
    );
    await assert.rejects(
      client.purgeInstance('x', { recursive: 1 } as never),
      refused("purgeInstance option 'recursive' must be true or false, got 1."),
    );
    assert.equal((await client.getOrchestrationState('x'))?.orchestrationStatus, 'Pending');
  });

  it('should refuse a suspend or resume reason over the error-text limit', async (t) => {
    const client = await openClient(t);
    await client.createOrchestrationInstance('O', { instanceId: 'x' });
    const long = 'r'.repeat(64 * 1024 + 1);
    await assert.rejects(
      client.suspend('x', long),
      refused('The suspend reason is longer than 65536 characters (65537 given).'),
    );
    await assert.rejects(
      client.resume('x', long),
      refused('The resume reason is longer than 65536 characters (65537 given).'),
    );
    await client.suspend('x', 'r'.repeat(64 * 1024));
  });

  it('should refuse a misspelled name in a query or filter', async (t) => {
    const client = await openClient(t);
    await assert.rejects(
      client.queryInstances({ runtimeStatuses: ['Completed'] } as never),
      refused(
        "Unknown queryInstances query option 'runtimeStatuses' " +
          "(did you mean 'runtimeStatus'?).",
      ),
    );
    // A typo here would otherwise widen a purge to every terminal status.
    await assert.rejects(
      client.purgeInstances({ createdTimeFrom: new Date(0), runtimeStatuss: ['Failed'] } as never),
      refused(
        'Unknown purgeInstances filter option ' +
          "'runtimeStatuss' (did you mean 'runtimeStatus'?).",
      ),
    );
    await assert.rejects(
      client.listDeadLetters({ limt: 5 } as never),
      refused("Unknown listDeadLetters query option 'limt' (did you mean 'limit'?)."),
    );
  });

  it('should refuse a signal that is not an AbortSignal, naming the parameter', async (t) => {
    const client = await openClient(t);
    await client.createOrchestrationInstance('O', { instanceId: 'x' });
    await assert.rejects(
      client.queryInstances({}, 5 as never),
      refused("queryInstances parameter 'signal' must be an AbortSignal, got 5."),
    );
    await assert.rejects(
      client.queryInstances({}, { aborted: false } as never),
      refused(
        "queryInstances parameter 'signal' must be an AbortSignal, " + 'got {"aborted":false}.',
      ),
    );
    await assert.rejects(
      client.waitForOrchestration('x', { signal: 'stop' as never }),
      refused('waitForOrchestration parameter \'signal\' must be an AbortSignal, got "stop".'),
    );
  });

  it('should take every documented option and a real AbortSignal', async (t) => {
    const client = await openClient(t);
    const { executionId } = await client.createOrchestrationInstance('O', {
      input: 1,
      instanceId: 'x',
      version: '1',
      tags: { a: 'b' },
      startAt: new Date(Date.now() + 60_000),
      dedupeStatuses: null,
      initialEvent: { name: 'e', data: 2 },
    });
    const signal = new AbortController().signal;
    const page = await client.queryInstances(
      {
        runtimeStatus: ['Pending'],
        createdTimeFrom: new Date(0),
        createdTimeTo: new Date(Date.now() + 60_000),
        instanceIdPrefix: 'x',
        name: 'O',
        pageSize: 10,
        continuationToken: null,
        fetchInputsAndOutputs: false,
      },
      signal,
    );
    assert.deepEqual(
      page.orchestrationState.map((s) => s.orchestrationInstance.instanceId),
      ['x'],
    );
    await client.raiseEvent('x', 'e', 3, { executionId });
    assert.equal((await client.getOrchestrationState('x', { executionId }))?.name, 'O');
    assert.equal(
      await client.waitForOrchestration('x', { executionId, timeoutMs: 1, signal }),
      null,
    );
    await client.terminate('x', 'done', { recursive: false });
    await client.purgeInstance('x', { recursive: false });
    await client.purgeInstances({
      createdTimeFrom: new Date(0),
      createdTimeTo: null,
      runtimeStatus: null,
      timeoutMs: null,
    });
    assert.deepEqual(await client.listDeadLetters({ instanceId: 'x', limit: 5 }), []);
  });
});
