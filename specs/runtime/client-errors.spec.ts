import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Backend } from '../../src/core/backend.ts';
import { isDurableTaskError, type ErrorCode } from '../../src/core/errors.ts';
import type { OrchestrationServiceClient } from '../../src/core/orchestration-service-client.ts';
import { createMemoryBackend } from '../../src/memory/index.ts';
import { createNatsBackend } from '../../src/nats/index.ts';
import { TaskHubClient } from '../../src/runtime/task-hub-client.ts';
import { uniqueHubName } from '../support/nats-server.ts';
import { sharedNatsUrl, stopSharedNatsServer } from '../support/shared-nats.ts';

type Kind = 'memory' | 'nats';

async function open(kind: Kind): Promise<Backend> {
  const hub = uniqueHubName('ce');
  const backend = kind === 'memory'
    ? createMemoryBackend({ hub })
    : await createNatsBackend({ servers: await sharedNatsUrl(), hub, partitions: 2 });
  await backend.service.createIfNotExists();
  return backend;
}

function fails(code: ErrorCode, pattern?: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(isDurableTaskError(e, code), `expected ${code}, got ${String(e)}`);
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

for (const kind of ['memory', 'nats'] as const) {
  describe(`TaskHubClient errors (${kind})`, () => {
    after(() => stopSharedNatsServer());

    it('should refuse null options, empty execution ids and foreign continuation tokens',
      async () => {
      const backend = await open(kind);
      try {
        const client = new TaskHubClient({ backend });
        await client.createOrchestrationInstance('O', { instanceId: 'x' });
        const invalid = fails('INVALID_ARGUMENT');
        await assert.rejects(client.createOrchestrationInstance('O', null as never), invalid);
        await assert.rejects(client.waitForOrchestration('x', null as never), invalid);
        await assert.rejects(client.raiseEvent('x', 'e', 1, null as never), invalid);
        await assert.rejects(client.terminate('x', 'r', null as never), invalid);
        await assert.rejects(client.getOrchestrationState('x', null as never), invalid);
        await assert.rejects(client.purgeInstance('x', null as never), invalid);
        await assert.rejects(client.getOrchestrationState('x', { executionId: '' }), invalid);
        await assert.rejects(client.getOrchestrationHistory('x', ''), invalid);
        await assert.rejects(client.raiseEvent('x', 'e', 1, { executionId: '' }), invalid);
        await assert.rejects(backend.client.getOrchestrationStateOfExecution('x', ''), invalid);
        for (const token of ['garbage', '', 'q1.%%%', 42]) {
          await assert.rejects(client.queryInstances({ continuationToken: token as never }),
            invalid, `token ${String(token)}`);
          await assert.rejects(backend.client.queryInstances({
            continuationToken: token as never }), invalid, `token ${String(token)}`);
        }
      } finally {
        await backend.close();
      }
    });

    it('should page through instances with the tokens it issued', async () => {
      const backend = await open(kind);
      try {
        const client = new TaskHubClient({ backend });
        for (const id of ['p1', 'p2', 'p3']) {
          await client.createOrchestrationInstance('O', { instanceId: id });
        }
        const seen: string[] = [];
        let token: string | null = null;
        for (let page = 0; page < 5; page++) {
          const result = await client.queryInstances({ pageSize: 2,
            ...(token !== null ? { continuationToken: token } : {}) });
          seen.push(...result.orchestrationState.map((s) => s.orchestrationInstance.instanceId));
          token = result.continuationToken;
          if (token === null) break;
        }
        assert.deepEqual(seen, ['p1', 'p2', 'p3']);
      } finally {
        await backend.close();
      }
    });

    it('should fail every call on a closed backend with INVALID_STATE', async () => {
      const backend = await open(kind);
      const client = new TaskHubClient({ backend });
      await client.createOrchestrationInstance('O', { instanceId: 'x' });
      await backend.close();
      const closed = fails('INVALID_STATE', /the backend of task hub '.+' is closed/);
      await assert.rejects(client.createOrchestrationInstance('O'), closed);
      await assert.rejects(client.getOrchestrationState('x'), closed);
      await assert.rejects(client.getOrchestrationStates('x'), closed);
      await assert.rejects(client.getOrchestrationHistory('x'), closed);
      await assert.rejects(client.raiseEvent('x', 'e'), closed);
      await assert.rejects(client.waitForOrchestration('x', { timeoutMs: 100 }), closed);
      await assert.rejects(client.terminate('x'), closed);
      await assert.rejects(client.purgeInstance('x'), closed);
      await assert.rejects(client.queryInstances(), closed);
      await assert.rejects(backend.service.lockNextOrchestrationWorkItem(100), closed);
      await assert.rejects(backend.service.lockNextActivityWorkItem(100), closed);
      await assert.rejects(backend.service.start(), closed);
    });
  });
}

describe('TaskHubClient with a client that throws foreign errors', () => {
  it('should turn them into BACKEND_ERROR with the cause', async () => {
    const broken = new Error('socket hang up');
    const failing = async (): Promise<never> => {
      throw broken;
    };
    const client = new TaskHubClient({ client: {
      createOrchestration: failing, sendOrchestrationMessage: failing,
      waitForOrchestration: failing, getOrchestrationState: failing, queryInstances: failing,
    } as unknown as OrchestrationServiceClient });
    for (const call of [() => client.createOrchestrationInstance('O'),
      () => client.getOrchestrationState('x'), () => client.raiseEvent('x', 'e'),
      () => client.waitForOrchestration('x'), () => client.queryInstances()]) {
      await assert.rejects(call(), (e) => {
        assert.ok(isDurableTaskError(e, 'BACKEND_ERROR'), String(e));
        assert.equal(e.cause, broken);
        assert.match(e.message, /socket hang up/);
        return true;
      });
    }
  });
});
