import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  encodeCommit, encodeCommitRecord, encodeOutboxMessage,
} from '../../src/nats/commit-encoding.ts';
import type { CommitBody } from '../../src/nats/wire.ts';

const decode = (b: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(b));

describe('commit encoding', () => {
  const body = {
    v: 1, instanceId: 'ïd "quoted"', executionId: 'e1', execStart: 7,
    events: [{ type: 'GenericEvent', eventId: 3, timestamp: '2026-01-01T00:00:00.000Z',
      data: '"x"' }],
    state: { orchestrationInstance: { instanceId: 'ïd "quoted"', executionId: 'e1' },
      name: 'N', version: '', orchestrationStatus: 'Running', customStatus: null },
    outbox: [
      { k: 'msg', subject: 'dt.h.act.0.x', id: 'x:e1:act:1',
        msg: { event: { type: 'TaskScheduled', eventId: 1, name: 'A' },
          orchestrationInstance: { instanceId: 'ïd "quoted"', executionId: 'e1' } } },
      { k: 'timer', key: '0.x.e1.t2', subject: 'dt.h.orch.0.x', id: 'x:e1:timer:t2',
        fireAt: '2030-01-01T00:00:00.000Z', msg: { event: { type: 'TimerFired' },
          orchestrationInstance: { instanceId: 'ïd "quoted"' } } },
    ],
    applied: [4, 5],
  } as unknown as CommitBody;

  it('should encode the same document JSON.stringify makes, in any key order', () => {
    assert.deepEqual(decode(encodeCommit(body)), JSON.parse(JSON.stringify(body)));
    const empty = { ...body, outbox: [], applied: [] } as CommitBody;
    assert.deepEqual(decode(encodeCommit(empty)), JSON.parse(JSON.stringify(empty)));
  });

  it('should reuse the texts for outbox messages and the record', () => {
    encodeCommit(body);
    for (const e of body.outbox) assert.deepEqual(decode(encodeOutboxMessage(e)), e.msg);
    assert.deepEqual(decode(encodeCommitRecord(body, 42)), { ...body.state, commitSeq: 42 });
    const fresh = { ...body } as CommitBody;
    assert.deepEqual(decode(encodeCommitRecord(fresh, 1)), { ...body.state, commitSeq: 1 });
  });
});
