import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VersioningOptions } from '../../src/runtime/index.ts';
import { backendFixtures } from '../support/backends.ts';
import { delay, outputOf } from '../support/conformance-helpers.ts';
import { startHub } from '../support/hub-harness.ts';
import type { Orchestrator } from '../support/runtime-api.ts';

const echoVersion: Orchestrator = function* (ctx) {
  return ctx.version;
};

const settled: readonly [string, VersioningOptions, string, 'Completed' | 'Failed'][] = [
  [
    'strict + fail refuses a newer instance',
    { version: '1', match: 'strict', onMismatch: 'fail' },
    '2',
    'Failed',
  ],
  [
    'current-or-older + fail refuses a newer instance',
    { version: '1', match: 'currentOrOlder', onMismatch: 'fail' },
    '2',
    'Failed',
  ],
  [
    'no matching runs any instance',
    { version: '1', match: 'none', onMismatch: 'fail' },
    '2',
    'Completed',
  ],
  [
    'strict accepts the same version',
    { version: '1.0.0', match: 'strict', onMismatch: 'fail' },
    '1.0.0',
    'Completed',
  ],
  [
    'current-or-older accepts an older version',
    { version: '1.0.0', match: 'currentOrOlder', onMismatch: 'fail' },
    '0.9.0',
    'Completed',
  ],
];

for (const fixture of backendFixtures()) {
  describe(fixture.kind, () => {
    for (const [what, versioning, instanceVersion, status] of settled) {
      it(`[66] worker versioning: ${what}`, async (t) => {
        const hub = await startHub(t, fixture, {
          workerOptions: { versioning },
          orchestrations: { Versioned: echoVersion },
        });
        if (!hub) return;
        const state = await hub.run('Versioned', { version: instanceVersion });
        assert.equal(state.orchestrationStatus, status, state.output);
        if (status === 'Completed') assert.equal(outputOf(state), instanceVersion);
        else assert.equal(state.failureDetails?.errorType, 'VersionMismatch');
      });
    }

    it('[66] worker versioning: reject keeps the instance unstarted with no history', async (t) => {
      const hub = await startHub(t, fixture, {
        workerOptions: { versioning: { version: '1', match: 'strict', onMismatch: 'reject' } },
        orchestrations: { Versioned: echoVersion },
      });
      if (!hub) return;
      const { instanceId } = await hub.client.createOrchestrationInstance('Versioned', {
        version: '2',
      });
      assert.equal(await hub.client.waitForOrchestration(instanceId, { timeoutMs: 2_500 }), null);
      await delay(100);
      const state = await hub.client.getOrchestrationState(instanceId);
      assert.ok(
        state && ['Pending', 'Running'].includes(state.orchestrationStatus),
        `status after rejects: ${state?.orchestrationStatus}`,
      );
      const history = await hub.client.getOrchestrationHistory(instanceId).catch(() => []);
      assert.deepEqual(history, []);
    });
  });
}
