import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { HandoffQueue } from '../../src/nats/handoff-queue.ts';
import { MAX_TIMEOUT_MS } from '../../src/util/clock.ts';

describe('HandoffQueue', () => {
  it('should keep a take longer than 2^31-1 ms waiting past that limit', async (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    const q = new HandoffQueue<string>();
    let got: string | null | undefined;
    void q.take(2 * MAX_TIMEOUT_MS).then((v) => {
      got = v;
    });
    mock.timers.tick(MAX_TIMEOUT_MS + 1_000);
    await Promise.resolve();
    assert.equal(got, undefined, 'the take ended at the setTimeout limit');
    q.put('item');
    await Promise.resolve();
    assert.equal(got, 'item');
  });

  it('should end a take with null at its timeout', async (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    const q = new HandoffQueue<string>();
    const taken = q.take(2 * MAX_TIMEOUT_MS);
    mock.timers.tick(2 * MAX_TIMEOUT_MS);
    assert.equal(await taken, null);
    assert.equal(q.waiting, 0);
  });
});
