import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { connect } from '@nats-io/transport-node';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import type { NatsBackend } from '../../src/nats/index.ts';
import { encodeInstanceId, HubNames } from '../../src/nats/names.ts';
import { checkpoint } from '../support/service-harness.ts';
import { startTestNatsServer } from '../support/nats-server.ts';
import { closeAll, startedBackend } from './helpers.ts';

describe('nats backend: purge of an instance with large payloads', () => {
  const server = startTestNatsServer();
  const track: NatsBackend[] = [];
  after(async () => {
    await closeAll(track);
    await (await server).stop();
  });

  it("should delete the instance's object-store blobs and keep other instances' ones", async () => {
    const url = (await server).url;
    const b = await startedBackend(url, track);
    const big = JSON.stringify('x'.repeat(600 * 1024));
    for (const id of ['big', 'other']) {
      const start = newEvent({ type: 'ExecutionStarted', name: 'Big', version: '', input: big,
        orchestrationInstance: { instanceId: id, executionId: `${id}1` } });
      await b.client.createOrchestration(taskMessage(start, { instanceId: id,
        executionId: `${id}1` }));
    }
    for (let i = 0; i < 2; i++) {
      const wi = await b.service.lockNextOrchestrationWorkItem(20_000);
      assert.ok(wi);
      assert.equal(wi.orchestrationRuntimeState.events.length, 0);
      const started = wi.newMessages[0]?.event;
      assert.ok(started?.type === 'ExecutionStarted' && started.input === big);
      await checkpoint(b, wi, { events: [{ type: 'ExecutionCompleted', eventId: 0,
        orchestrationStatus: 'Completed', result: big }] });
      await b.service.releaseOrchestrationWorkItem(wi);
    }
    const nc = await connect({ servers: url });
    try {
      const store = await new Objm(jetstream(nc)).open(new HubNames(b.hub, 2).blobsBucket);
      const owned = async (id: string) => (await store.list())
        .filter((i) => !i.deleted && i.name.startsWith(`o.${encodeInstanceId(id)}.`)).length;
      assert.ok((await owned('big')) > 0, 'no blob was stored under the instance');
      const others = await owned('other');
      assert.equal((await b.client.purgeInstanceState('big')).deletedInstanceCount, 1);
      assert.equal(await owned('big'), 0, 'blobs of the purged instance are left');
      assert.equal(await owned('other'), others, "another instance's blobs were deleted");
      const [state] = await b.client.getOrchestrationState('other');
      assert.equal(state?.output, big);
    } finally {
      await nc.close();
    }
  });
});
