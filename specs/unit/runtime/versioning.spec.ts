import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, versionMismatch } from '../../../src/runtime/versioning.ts';

describe('versioning', () => {
  it('should compare dotted versions numerically', () => {
    assert.equal(compareVersions('0.9.0', '1.0.0'), -1);
    assert.equal(compareVersions('1.10', '1.9'), 1);
    assert.equal(compareVersions('1.0', '1.0.0'), 0);
  });

  it('[66] should accept by strict or current-or-older matching', () => {
    const strict = { version: '1.0.0', match: 'strict', onMismatch: 'fail' } as const;
    const older = { version: '1.0.0', match: 'currentOrOlder', onMismatch: 'fail' } as const;
    assert.equal(versionMismatch(strict, '1.0.0'), undefined);
    assert.match(versionMismatch(strict, '2') ?? '', /'2' does not match/);
    assert.equal(versionMismatch(older, '0.9.0'), undefined);
    assert.ok(versionMismatch(older, '2'));
    assert.equal(versionMismatch(undefined, 'anything'), undefined);
  });
});
