import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDurableTaskError } from '../../src/core/errors.ts';
import {
  decodeExecutionId,
  decodeInstanceId,
  encodeExecutionId,
  encodeInstanceId,
  fnv1a32,
  HubNames,
  partitionOf,
} from '../../src/nats/names.ts';

// F20: hostile but legal ids, plus a few more shapes that subjects and keys cannot carry raw.
const HOSTILE_IDS = [
  ' ',
  'a.b',
  'a*',
  '>',
  'über/ünïcödé',
  'x'.repeat(256),
  '😀'.repeat(256),
  'tab\tnew\nline',
  'dots...',
  '$KV.x',
  'a b.c*d>e',
];

describe('nats names', () => {
  it('should round-trip hostile instance ids through one subject token', () => {
    for (const id of HOSTILE_IDS) {
      const token = encodeInstanceId(id);
      assert.match(token, /^[A-Za-z0-9_-]+$/, `token of ${JSON.stringify(id)} is not one token`);
      assert.equal(decodeInstanceId(token), id);
    }
  });

  it('should reject empty and over-long ids with INVALID_INSTANCE_ID', () => {
    for (const id of ['', 'x'.repeat(257), 'x'.repeat(10_000)]) {
      assert.throws(
        () => encodeInstanceId(id),
        (e) => isDurableTaskError(e, 'INVALID_INSTANCE_ID'),
      );
    }
    assert.throws(
      () => decodeInstanceId('a.b'),
      (e) => isDurableTaskError(e, 'INVALID_INSTANCE_ID'),
    );
  });

  it('should hash with FNV-1a 32-bit over UTF-8 bytes', () => {
    // Published FNV-1a test vectors.
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
    // UTF-8, not UTF-16: 'ü' is the two bytes c3 bc.
    let h = 0x811c9dc5;
    for (const byte of [0xc3, 0xbc]) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
    assert.equal(fnv1a32('ü'), h);
  });

  it('should spread partitions over the whole range and keep them stable', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i++) {
      const p = partitionOf(`instance-${i}`, 16);
      assert.ok(p >= 0 && p < 16);
      seen.add(p);
    }
    assert.equal(seen.size, 16);
    assert.equal(partitionOf('order-42', 16), fnv1a32('order-42') % 16);
  });

  it('should derive every name of a hub from the validated hub name', () => {
    const n = new HubNames('orders_1', 4);
    const token = encodeInstanceId('a.b');
    assert.equal(n.orchStream, 'DT_orders_1_ORCH');
    assert.equal(n.histStream, 'DT_orders_1_HIST');
    assert.equal(n.instancesBucket, 'DT_orders_1_INSTANCES');
    assert.equal(n.orchSubject(3, token), `dt.orders_1.orch.3.${token}`);
    assert.equal(n.histSubject(3, token), `dt.orders_1.hist.3.${token}`);
    assert.equal(n.actSubject(1, token), `dt.orders_1.act.1.${token}`);
    assert.equal(n.startMessageId(token, 'e1'), `${token}:e1:start`);
    assert.equal(n.outboxMessageId(token, 'e1', 'act', 7), `${token}:e1:act:7`);
    assert.equal(n.resultMessageId(token, 'e1', 7), `${token}:e1:result:7`);
    assert.throws(
      () => new HubNames('bad.hub', 4),
      (e) => isDurableTaskError(e, 'INVALID_HUB_NAME'),
    );
    assert.throws(
      () => new HubNames('h', 0),
      (e) => isDurableTaskError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('should keep plain execution ids and encode others reversibly', () => {
    assert.equal(encodeExecutionId('0123abcdef'), '0123abcdef');
    for (const id of ['a.b', 'x y', 'ü', '*']) {
      const enc = encodeExecutionId(id);
      assert.match(enc, /^=[A-Za-z0-9_-]+$/);
      assert.equal(decodeExecutionId(enc), id);
    }
  });
});
