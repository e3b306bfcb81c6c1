import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendFixtures } from '../support/backends.ts';
import { outputOf } from '../support/conformance-helpers.ts';
import { startHub } from '../support/hub-harness.ts';

// Two TaskHubWorkers in one process on one backend object, each hosting
// different orchestrations: stopping one leaves the other serving.

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    it('should keep a worker serving when another on the same backend stops', async (t) => {
      const hub = await startHub(t, fixture, {
        orchestrations: {
          First: function* () {
            return 'first';
          },
        },
      });
      if (!hub) return;
      const second = await hub.addWorker(
        {
          orchestrations: {
            Second: function* (ctx) {
              return yield ctx.callActivity('Shout', 'second');
            },
          },
          activities: { Shout: (_ctx, s: string) => s.toUpperCase() },
        },
        { sameBackend: true },
      );
      assert.equal(outputOf(await hub.run('First')), 'first');
      assert.equal(outputOf(await hub.run('Second')), 'SECOND');

      await hub.worker.stop();
      assert.equal(second.state, 'running');
      assert.equal(outputOf(await hub.run('Second')), 'SECOND');
      await second.stop();
    });
  });
}
