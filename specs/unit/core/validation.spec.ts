import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDurableTaskError } from '../../../src/core/errors.ts';
import { serializePayload } from '../../../src/core/payload.ts';
import {
  validateHubName,
  validateInstanceId,
  validateName,
  validateTags,
  validateTimeoutMs,
  validateVersion,
} from '../../../src/core/validation.ts';

describe('validation', () => {
  it('should accept hostile but legal instance ids', () => {
    const ids = [' ', 'a.b', 'a*', '>', 'über/ünïcödé', 'x'.repeat(256), '😀'.repeat(256)];
    for (const id of ids) {
      assert.equal(validateInstanceId(id), id);
    }
  });

  it('should reject empty, over-long and non-string instance ids with INVALID_INSTANCE_ID', () => {
    for (const id of ['', 'x'.repeat(257), 'x'.repeat(10_000), 42, null, '\uD800']) {
      assert.throws(
        () => validateInstanceId(id),
        (e) => isDurableTaskError(e, 'INVALID_INSTANCE_ID'),
      );
    }
  });

  it('should reject invalid hub names and name the problem', () => {
    for (const name of ['', 'a.b', 'x'.repeat(33), 'hub name', 7]) {
      assert.throws(
        () => validateHubName(name),
        (e) =>
          isDurableTaskError(e, 'INVALID_HUB_NAME') && /task hub name/.test((e as Error).message),
      );
    }
    assert.equal(validateHubName('demo_hub-1'), 'demo_hub-1');
  });

  it('should take names up to 1024 characters and refuse longer ones, naming the kind', () => {
    assert.equal(validateName('n'.repeat(1024), 'activity'), 'n'.repeat(1024));
    for (const name of ['n'.repeat(1025), 'n'.repeat(3 * 1024 * 1024)]) {
      assert.throws(
        () => validateName(name, 'event'),
        (e) =>
          isDurableTaskError(e, 'INVALID_ARGUMENT') &&
          /event name is longer than 1024 characters/.test((e as Error).message) &&
          (e as Error).message.length < 200,
      );
    }
  });

  it('should take small tags and versions, and refuse large or mistyped ones', () => {
    assert.deepEqual(validateTags({ team: 'a' }, 'orchestration'), { team: 'a' });
    assert.equal(validateTags(undefined, 'orchestration'), undefined);
    const refused = (what: RegExp) => (e: unknown) =>
      isDurableTaskError(e, 'INVALID_ARGUMENT') && what.test(String(e));
    assert.throws(
      () => validateTags({ big: 'v'.repeat(17_000) }, 'activity'),
      refused(/activity tags take about \d+ characters; at most 16384/),
    );
    assert.throws(
      () => validateTags({ n: 1 }, 'orchestration'),
      refused(/orchestration tag "n" must be a string, got number/),
    );
    assert.throws(() => validateTags(['x'], 'orchestration'), refused(/must be an object/));
    assert.equal(validateVersion(undefined, 'orchestration'), '');
    assert.equal(validateVersion('v2', 'orchestration'), 'v2');
    assert.throws(
      () => validateVersion('v'.repeat(1025), 'sub-orchestration'),
      refused(/sub-orchestration version is longer than 1024 characters/),
    );
    assert.throws(() => validateVersion(2, 'activity'), refused(/must be a string, got number/));
  });

  it('should say a timeout given as a string is a string', () => {
    assert.throws(
      () => validateTimeoutMs('100', 'wait timeout'),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT') && /got the string "100"/.test(String(e)),
    );
    assert.equal(validateTimeoutMs(100, 'wait timeout'), 100);
  });

  it('should refuse values JSON would change and name where they are', () => {
    const cyc: Record<string, unknown> = {};
    cyc['self'] = cyc;
    const cases: unknown[] = [
      10n,
      () => 1,
      Symbol('s'),
      NaN,
      new Map(),
      { a: [1, new Set()] },
      cyc,
    ];
    for (const v of cases) {
      assert.throws(
        () => serializePayload(v, 'input'),
        (e) => isDurableTaskError(e, 'NOT_SERIALIZABLE'),
      );
    }
    assert.throws(() => serializePayload({ a: [1, 2n] }, 'input'), /\$\.a\[1\] is a bigint/);
    assert.equal(serializePayload(undefined, 'input'), undefined);
    assert.equal(
      serializePayload({ a: 'ü', d: new Date(0) }, 'input'),
      '{"a":"ü","d":"1970-01-01T00:00:00.000Z"}',
    );
  });
});

describe('payload edge values', () => {
  it('should refuse Errors and binary data instead of storing {} or index maps', () => {
    for (const v of [
      new Error('x'),
      new Uint8Array([1, 2]),
      Buffer.from('ab'),
      new ArrayBuffer(2),
    ]) {
      assert.throws(
        () => serializePayload({ v }, 'result'),
        (e) => isDurableTaskError(e, 'NOT_SERIALIZABLE') && /\$\.v is/.test((e as Error).message),
      );
    }
  });

  it('should turn a throwing getter or proxy trap into NOT_SERIALIZABLE', () => {
    const getter = {
      get boom(): never {
        throw new Error('getter says no');
      },
    };
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap says no');
        },
      },
    );
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw {
            toString: () => {
              throw new Error('not printable either');
            },
          };
        },
      },
    );
    for (const [v, text] of [
      [getter, /getter says no/],
      [proxy, /trap says no/],
      [hostile, /unprintable/],
    ] as const) {
      assert.throws(
        () => serializePayload({ v }, 'input'),
        (e) =>
          isDurableTaskError(e, 'NOT_SERIALIZABLE') &&
          /The input cannot be serialized/.test((e as Error).message) &&
          text.test((e as Error).message),
      );
    }
  });

  it('should store undefined array entries as null, as JSON does', () => {
    assert.equal(serializePayload([1, undefined, 3], 'result'), '[1,null,3]');
  });
});
