import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDurableTaskError } from '../../../src/core/errors.ts';
import {
  checkKnownKeys, closestName, editDistance, optionKeys,
} from '../../../src/util/option-keys.ts';

describe('editDistance', () => {
  it('should count inserts, deletes, replacements and swaps of neighbours as one edit each', () => {
    assert.equal(editDistance('leasems', 'leasems'), 0);
    assert.equal(editDistance('leasem', 'leasems'), 1);
    assert.equal(editDistance('leasemss', 'leasems'), 1);
    assert.equal(editDistance('leasexs', 'leasems'), 1);
    assert.equal(editDistance('recieve', 'receive'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('should stop at the limit', () => {
    assert.equal(editDistance('abcdef', 'uvwxyz', 3), 3);
    assert.equal(editDistance('a', 'abcdefgh', 3), 3);
    assert.equal(editDistance('ab', 'ba', 3), 1);
  });
});

describe('closestName', () => {
  const known = ['leaseMs', 'activityLockMs', 'hub', 'partitions'];

  it('should prefer the same letters in another case', () => {
    assert.equal(closestName('LEASEMS', known), 'leaseMs');
    assert.equal(closestName('leasems', known), 'leaseMs');
  });

  it('should suggest a name within two edits and nothing further away', () => {
    assert.equal(closestName('partitons', known), 'partitions');
    assert.equal(closestName('activityLockMS', known), 'activityLockMs');
    assert.equal(closestName('hb', known), 'hub');
    assert.equal(closestName('activityTimeoutMs', known), undefined);
    assert.equal(closestName('x', ['hub', 'leaseMs']), undefined);
  });

  it('should suggest the one name a shortened name starts or ends', () => {
    const query = ['runtimeStatus', 'createdTimeFrom', 'createdTimeTo', 'pageSize'];
    assert.equal(closestName('status', query), 'runtimeStatus');
    assert.equal(closestName('page', query), 'pageSize');
    assert.equal(closestName('created', query), undefined, 'two names start with it');
    assert.equal(closestName('to', query), undefined, 'too short to guess from');
  });

  it('should take the nearest when several are within two edits', () => {
    assert.equal(closestName('abcd', ['abxy', 'abcx']), 'abcx');
  });
});

describe('checkKnownKeys', () => {
  const known = optionKeys<{ receiveTimeoutMs?: number; backend?: object }>({
    receiveTimeoutMs: true, backend: true,
  });

  const refused = (fn: () => void, message: string): void => {
    assert.throws(fn, (e) => {
      assert.ok(isDurableTaskError(e, 'INVALID_ARGUMENT'), String(e));
      assert.equal(e.message, message);
      return true;
    });
  };

  it('should accept known names, given or not', () => {
    checkKnownKeys('W', {}, known);
    checkKnownKeys('W', { receiveTimeoutMs: 5, backend: undefined }, known);
  });

  it('should name an unknown name and suggest the one it misspells', () => {
    refused(() => checkKnownKeys('TaskHubWorker', { recieveTimeoutMs: 5 }, known),
      "Unknown TaskHubWorker option 'recieveTimeoutMs' (did you mean 'receiveTimeoutMs'?).");
  });

  it('should refuse an unknown name even when its value is undefined', () => {
    refused(() => checkKnownKeys('W', { colour: undefined }, known), "Unknown W option 'colour'.");
  });

  it('should name every unknown name, with the path of a nested object', () => {
    refused(() => checkKnownKeys('W', { Backend: 1, colour: 2, receiveTimeoutMs: 3 }, known,
      'inner'), "Unknown W options 'inner.Backend' (did you mean 'inner.backend'?), " +
      "'inner.colour'.");
  });

  it('should list the names of an options type', () => {
    assert.deepEqual([...known], ['receiveTimeoutMs', 'backend']);
    assert.ok(Object.isFrozen(known));
  });
});
