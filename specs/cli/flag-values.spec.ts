import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliOnPendingHub } from './cli-runner.ts';

describe('command line numeric flags', () => {
  const cli = cliOnPendingHub('cliflags');

  it('should name the text of a --timeout that is not a number', async () => {
    const result = await cli('wait', 'pending-1', '--timeout', 'abc');
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'error [INVALID_ARGUMENT]: --timeout must be a whole number of milliseconds, got "abc".\n',
    );
  });

  it('should refuse a --timeout that is empty, negative, fractional or has a unit', async () => {
    for (const text of ['', '-5', '1.5', '10s', ' 100']) {
      const result = await cli('wait', 'pending-1', `--timeout=${text}`);
      assert.equal(result.code, 1, `${JSON.stringify(text)}: ${result.stderr}`);
      assert.ok(
        result.stderr.includes(
          `--timeout must be a whole number of milliseconds, got ` + `${JSON.stringify(text)}.`,
        ),
        result.stderr,
      );
    }
  });

  it('should check --timeout before it looks the instance up', async () => {
    const result = await cli('wait', 'nobody', '--timeout', 'soon');
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /--timeout must be a whole number of milliseconds, got "soon"/);
  });

  it('should still wait for a --timeout in whole milliseconds', async () => {
    const result = await cli('wait', 'pending-1', '--timeout', '200');
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, 'not finished within 200 ms\n');
    assert.equal(result.stderr, '');
  });
});
