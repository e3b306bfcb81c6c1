import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kvm } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsBackend } from '../../src/nats/index.ts';
import { encodeInstanceId, HubNames } from '../../src/nats/names.ts';
import { startTestNatsServer } from '../support/nats-server.ts';
import { closeAll, startedBackend } from './helpers.ts';

/** The Pending record a create writes first, as if its creator died before sending the start. */
function pendingRecord(instanceId: string, executionId: string, createdAgoMs: number,
  scheduledStartTime: string | null = null) {
  const created = new Date(Date.now() - createdAgoMs).toISOString();
  return {
    orchestrationInstance: { instanceId, executionId }, name: 'Orphan', version: '',
    orchestrationStatus: 'Pending', customStatus: null, input: '"in"', createdTime: created,
    lastUpdatedTime: created, completedTime: null, scheduledStartTime, commitSeq: 0,
  };
}

describe('nats backend: Pending records whose start was never sent', () => {
  const server = startTestNatsServer();
  const track: NatsBackend[] = [];
  after(async () => {
    await closeAll(track);
    await (await server).stop();
  });

  async function writeRecord(hub: string, record: ReturnType<typeof pendingRecord>) {
    const nc = await connect({ servers: (await server).url });
    try {
      const kv = await new Kvm(jetstream(nc)).open(new HubNames(hub, 2).instancesBucket);
      const token = encodeInstanceId(record.orchestrationInstance.instanceId);
      await kv.create(token, JSON.stringify(record));
    } finally {
      await nc.close();
    }
  }

  it('should send the start of a Pending record that has no message', async () => {
    const b = await startedBackend((await server).url, track, { pendingScanIntervalMs: 300 });
    await writeRecord(b.hub, pendingRecord('orphan', 'e1', 10_000));
    const wi = await b.service.lockNextOrchestrationWorkItem(20_000);
    assert.ok(wi, 'the start was never sent');
    assert.equal(wi.instanceId, 'orphan');
    const ev = wi.newMessages[0]?.event;
    assert.ok(ev?.type === 'ExecutionStarted');
    assert.equal(ev.orchestrationInstance.executionId, 'e1');
    assert.equal(ev.input, '"in"');
    assert.equal(wi.newMessages.length, 1);
  });

  it('should put back the timer of a scheduled start, never sending it early', async () => {
    const b = await startedBackend((await server).url, track, { pendingScanIntervalMs: 300 });
    const at = Date.now() + 3_000;
    await writeRecord(b.hub, pendingRecord('later', 'e2', 10_000, new Date(at).toISOString()));
    const wi = await b.service.lockNextOrchestrationWorkItem(20_000);
    assert.ok(wi, 'the scheduled start was never sent');
    assert.ok(Date.now() >= at, 'the start came before its scheduled time');
    assert.equal(wi.newMessages[0]?.event.type, 'ExecutionStarted');
  });
});
