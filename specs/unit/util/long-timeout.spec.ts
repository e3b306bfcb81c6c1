import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { MAX_TIMEOUT_MS } from '../../../src/util/clock.ts';
import { longTimeout } from '../../../src/util/long-timeout.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('longTimeout', () => {
  it('should fire a 45-day wait on its deadline, not at 2^31-1 ms', (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    let fired = 0;
    longTimeout(() => fired++, 45 * DAY_MS);
    mock.timers.tick(MAX_TIMEOUT_MS);
    assert.equal(fired, 0, 'fired at the setTimeout limit');
    mock.timers.tick(45 * DAY_MS - MAX_TIMEOUT_MS - 1);
    assert.equal(fired, 0, 'fired early');
    mock.timers.tick(1);
    assert.equal(fired, 1);
  });

  it('should not fire once cleared, nor ever for Infinity', (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    let fired = 0;
    const timer = longTimeout(() => fired++, 3 * MAX_TIMEOUT_MS);
    longTimeout(() => fired++, Infinity);
    mock.timers.tick(MAX_TIMEOUT_MS + 5);
    timer.clear();
    mock.timers.tick(3 * MAX_TIMEOUT_MS);
    assert.equal(fired, 0);
  });

  it('should fire a short wait once', (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    let fired = 0;
    longTimeout(() => fired++, 10);
    mock.timers.tick(10);
    mock.timers.tick(10_000);
    assert.equal(fired, 1);
  });
});
