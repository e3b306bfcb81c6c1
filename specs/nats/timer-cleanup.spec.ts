import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { newEvent } from '../../src/core/history-event.ts';
import { taskMessage } from '../../src/core/task-message.ts';
import { HubNames } from '../../src/nats/names.ts';
import { eventually } from '../support/conformance-helpers.ts';
import { checkpoint } from '../support/service-harness.ts';
import { startTestNatsServer } from '../support/nats-server.ts';
import { closeAll, startedBackend } from './helpers.ts';
import type { NatsBackend } from '../../src/nats/index.ts';

describe('nats backend: timer index cleanup', () => {
  const server = startTestNatsServer();
  const track: NatsBackend[] = [];
  after(async () => {
    await closeAll(track);
    await (await server).stop();
  });

  it('should leave no entry, not even a delete marker, for a fired timer', async () => {
    const url = (await server).url;
    const b = await startedBackend(url, track);
    const names = new HubNames(b.hub, 2);
    const start = newEvent({ type: 'ExecutionStarted', name: 'T', version: '',
      orchestrationInstance: { instanceId: 'timed', executionId: 'e1' } });
    await b.client.createOrchestration(taskMessage(start, { instanceId: 'timed',
      executionId: 'e1' }));
    const wi = await b.service.lockNextOrchestrationWorkItem(20_000);
    assert.ok(wi);
    const fireAt = new Date(Date.now() + 1_500).toISOString();
    await checkpoint(b, wi, {
      events: [{ type: 'TimerCreated', eventId: 0, fireAt }],
      timerMessages: [taskMessage(newEvent({ type: 'TimerFired', timerId: 0, fireAt }),
        { instanceId: 'timed', executionId: 'e1' })],
    });
    await b.service.releaseOrchestrationWorkItem(wi);

    const nc = await connect({ servers: url });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = `KV_${names.timersBucket}`;
      assert.equal((await jsm.streams.info(stream)).state.messages, 1, 'the timer was not stored');
      const fired = await b.service.lockNextOrchestrationWorkItem(20_000);
      assert.equal(fired?.newMessages[0]?.event.type, 'TimerFired');
      await eventually('the timer entry is gone', async () =>
        (await jsm.streams.info(stream)).state.messages === 0, 10_000);
    } finally {
      await nc.close();
    }
  });
});
