import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renewalDelayMs, startRenewal } from '../../../src/runtime/lock-renewal.ts';
import { SimClock } from '../../support/sim-clock.ts';

async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

describe('lock renewal', () => {
  it('should renew at the lesser of the contract schedule and a third of the lock', () => {
    const now = 0;
    assert.equal(renewalDelayMs(now + 10_000, now, 10_000), 10_000 / 3);
    assert.equal(renewalDelayMs(now + 30_000, now, 30_000), 5_000);
    assert.equal(renewalDelayMs(now + 300_000, now, 300_000), 30_000);
  });

  it('should renew in the background until stopped', async () => {
    const clock = new SimClock();
    let until = clock.now() + 9_000;
    let renewals = 0;
    const r = startRenewal({
      clock,
      lockedUntil: () => until,
      renew: async () => {
        renewals++;
        until = clock.now() + 9_000;
      },
      onFailure: () => assert.fail('no failure expected'),
    });
    for (let i = 0; i < 3; i++) {
      await settle();
      clock.advance(3_000);
    }
    await settle();
    assert.equal(renewals, 3);
    r.stop();
    clock.advance(30_000);
    await settle();
    assert.equal(renewals, 3);
    assert.equal(r.failed, false);
  });

  it('should stop at the first failed renewal and report it once', async () => {
    const clock = new SimClock();
    const failures: unknown[] = [];
    const r = startRenewal({
      clock,
      lockedUntil: () => clock.now() + 3_000,
      renew: async () => {
        throw new Error('lock lost');
      },
      onFailure: (err) => failures.push(err),
    });
    for (let i = 0; i < 5; i++) {
      await settle();
      clock.advance(1_000);
    }
    await settle();
    assert.equal(failures.length, 1);
    assert.equal(r.failed, true);
  });

  it('should not renew a lock that never expires or already expired', async () => {
    const clock = new SimClock();
    for (const until of [Infinity, clock.now() - 1]) {
      let renewed = false;
      startRenewal({ clock, lockedUntil: () => until, renew: async () => {
        renewed = true;
      }, onFailure: () => undefined });
      clock.advance(60_000);
      await settle();
      assert.equal(renewed, false);
    }
  });
});
