import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandoffQueue } from '../../../src/nats/handoff-queue.ts';

describe('HandoffQueue', () => {
  it('should poll once for a zero, negative or NaN timeout, after other I/O', async () => {
    for (const timeout of [0, -1, Number.NaN]) {
      const q = new HandoffQueue<string>();
      let immediateRan = false;
      setImmediate(() => {
        immediateRan = true;
      });
      assert.equal(await q.take(timeout), null);
      assert.ok(immediateRan, `timeout ${timeout}: answered before other I/O had a turn`);
      assert.equal(q.waiting, 0, 'no taker left behind');
    }
  });

  it('should hand over what is queued, and what arrives before a poll answers', async () => {
    const q = new HandoffQueue<string>();
    q.put('a');
    assert.equal(await q.take(0), 'a');
    const polled = q.take(0);
    q.put('b');
    assert.equal(await polled, 'b');
  });

  it('should wait for an item up to its timeout and detach on abort', async () => {
    const q = new HandoffQueue<string>();
    const waiting = q.take(60_000);
    assert.equal(q.waiting, 1);
    q.put('c');
    assert.equal(await waiting, 'c');
    const controller = new AbortController();
    const aborted = q.take(60_000, controller.signal);
    controller.abort();
    assert.equal(await aborted, null);
    assert.equal(q.waiting, 0);
  });
});
