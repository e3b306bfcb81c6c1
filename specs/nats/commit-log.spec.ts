import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { NatsBackend } from '../../src/nats/index.ts';
import { encodeInstanceId } from '../../src/nats/names.ts';
import type { CommitBody } from '../../src/nats/wire.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import { closeAll, startedBackend } from './helpers.ts';

describe('nats commit log', () => {
  let server: TestNatsServer;
  const backends: NatsBackend[] = [];

  before(async () => {
    server = await startTestNatsServer();
  });
  afterEach(() => closeAll(backends));
  after(() => server.stop());

  it('should find the commit of an attempt whose publish got no answer, and only that one',
    async () => {
      const b = await startedBackend(server.url, backends, { partitions: 1 });
      const log = (b.service as unknown as { engine: { commitLog: {
        publish(p: number, t: string, body: CommitBody, rev: number, id: string): Promise<number>;
        findAttempt(p: number, t: string, from: number, id: string): Promise<number | null>;
      } } }).engine.commitLog;
      const token = encodeInstanceId('lost-reply');
      const body = (n: number) => ({ v: 1, instanceId: 'lost-reply', executionId: 'e1',
        events: [{ type: 'GenericEvent', eventId: n, timestamp: new Date().toISOString(),
          data: `"${n}"` }], state: {}, outbox: [], applied: [] }) as unknown as CommitBody;
      const first = await log.publish(0, token, body(0), 0, 'attempt-a');
      const second = await log.publish(0, token, body(1), first, 'attempt-b');
      assert.equal(await log.findAttempt(0, token, 1, 'attempt-a'), first);
      assert.equal(await log.findAttempt(0, token, 1, 'attempt-b'), second);
      assert.equal(await log.findAttempt(0, token, first + 1, 'attempt-a'), null);
      assert.equal(await log.findAttempt(0, token, 1, 'attempt-c'), null);
    });
});
