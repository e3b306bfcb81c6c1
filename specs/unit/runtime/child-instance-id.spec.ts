import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateInstanceId } from '../../../src/core/validation.ts';
import { defaultChildInstanceId } from '../../../src/runtime/child-instance-id.ts';

describe('defaultChildInstanceId', () => {
  it("should be the parent's id, ':' and the action id in hex when it fits", () => {
    assert.equal(defaultChildInstanceId('order-42', 3), 'order-42:0003');
    assert.equal(defaultChildInstanceId('p', 0x12345), 'p:12345');
    const fits = 'x'.repeat(251);
    assert.equal(defaultChildInstanceId(fits, 1), `${fits}:0001`);
  });

  it('should stay a valid id, distinct and stable, for parents up to the limit', () => {
    const seen = new Set<string>();
    for (const parent of [
      'x'.repeat(252),
      'x'.repeat(256),
      `${'x'.repeat(255)}y`,
      '😀'.repeat(256),
      `${'😀'.repeat(250)}a.b*>`,
    ]) {
      for (const action of [0, 7, 0xffff, 0x10000]) {
        const id = defaultChildInstanceId(parent, action);
        assert.equal(validateInstanceId(id), id);
        assert.ok([...id].length <= 256, `${[...id].length} code points`);
        assert.equal(defaultChildInstanceId(parent, action), id, 'not deterministic');
        assert.ok(!seen.has(id), `two children share ${id}`);
        seen.add(id);
      }
    }
  });
});
