import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Backend } from '../../src/core/backend.ts';
import { createMemoryBackend } from '../../src/memory/index.ts';
import { createNatsBackend } from '../../src/nats/index.ts';
import { uniqueHubName } from '../support/nats-server.ts';
import { sharedNatsUrl, stopSharedNatsServer } from '../support/shared-nats.ts';

async function open(kind: 'memory' | 'nats'): Promise<Backend> {
  const hub = uniqueHubName('lp');
  const backend = kind === 'memory'
    ? createMemoryBackend({ hub })
    : await createNatsBackend({ servers: await sharedNatsUrl(), hub, partitions: 2 });
  await backend.service.createIfNotExists();
  await backend.service.start();
  return backend;
}

for (const kind of ['memory', 'nats'] as const) {
  describe(`lock calls with a zero receive timeout (${kind})`, () => {
    after(() => stopSharedNatsServer());

    it('should poll once and let other I/O run, so a caller polling in a loop cannot starve it',
      async () => {
      const backend = await open(kind);
      try {
        let turns = 0;
        const tick = (): void => {
          turns++;
        };
        for (let i = 0; i < 20; i++) {
          setImmediate(tick);
          assert.equal(await backend.service.lockNextOrchestrationWorkItem(0), null);
          setImmediate(tick);
          assert.equal(await backend.service.lockNextActivityWorkItem(0), null);
        }
        assert.ok(turns >= 39, `only ${turns} of 40 other callbacks ran during the polls`);
      } finally {
        await backend.service.stop({ forced: true });
        await backend.close();
      }
    });
  });
}
