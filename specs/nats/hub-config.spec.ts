import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDurableTaskError } from '../../src/core/errors.ts';
import { createNatsBackend } from '../../src/nats/index.ts';
import { startTestNatsServer, uniqueHubName, type TestNatsServer } from '../support/nats-server.ts';

describe('hub configuration', () => {
  let server: TestNatsServer;

  before(async () => {
    server = await startTestNatsServer();
  });

  after(async () => {
    await server.stop();
  });

  it("should let a process that sets no partition count adopt the hub's", async () => {
    const hub = uniqueHubName('cfg');
    const creator = await createNatsBackend({ servers: server.url, hub, partitions: 3 });
    await creator.service.createIfNotExists();
    const adopter = await createNatsBackend({ servers: server.url, hub });
    try {
      await adopter.service.createIfNotExists();
      const states = await adopter.client.getOrchestrationState('nobody');
      assert.deepEqual(states, []);
    } finally {
      await adopter.close();
      await creator.close();
    }
  });

  it("should refuse an explicit partition count that differs from the hub's", async () => {
    const hub = uniqueHubName('cfg');
    const creator = await createNatsBackend({ servers: server.url, hub, partitions: 3 });
    await creator.service.createIfNotExists();
    const other = await createNatsBackend({ servers: server.url, hub, partitions: 4 });
    try {
      await assert.rejects(
        other.service.createIfNotExists(),
        (e) => isDurableTaskError(e, 'HUB_CONFIG_MISMATCH') && /partitions is 3/.test(e.message),
      );
    } finally {
      await other.close();
      await creator.close();
    }
  });
});
