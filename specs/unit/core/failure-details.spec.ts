import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failureFromError, MAX_ERROR_MESSAGE_CHARS } from '../../../src/core/failure-details.ts';

const MB2 = 'x'.repeat(2 * 1024 * 1024);

describe('failureFromError', () => {
  it('should keep type, message, stack and the cause chain of an Error', () => {
    const err = new TypeError('outer', { cause: new RangeError('inner') });
    const f = failureFromError(err);
    assert.equal(f.errorType, 'TypeError');
    assert.equal(f.errorMessage, 'outer');
    assert.match(f.stackTrace ?? '', /TypeError: outer/);
    assert.equal(f.innerFailure?.errorType, 'RangeError');
    assert.equal(f.isNonRetriable, false);
  });

  it('should bound a huge message, type name and a failure-shaped object', () => {
    const big = new Error(MB2);
    big.name = MB2;
    const f = failureFromError(big);
    assert.ok(f.errorMessage.length < MAX_ERROR_MESSAGE_CHARS + 100);
    assert.ok(f.errorType.length < 400);
    const shaped = failureFromError({ errorType: MB2, errorMessage: MB2, isNonRetriable: false });
    assert.ok(JSON.stringify(shaped).length < MAX_ERROR_MESSAGE_CHARS + 2_000);
  });

  it('should survive throwing getters, proxies and unserializable properties', () => {
    const hostile = new Error('boom');
    const fail = (): never => {
      throw new Error('no');
    };
    // The stack is defined first: V8 builds it from the message on first read.
    Object.defineProperty(hostile, 'stack', { get: fail });
    Object.defineProperty(hostile, 'message', { get: fail });
    assert.equal(failureFromError(hostile).errorMessage, '');
    const proxy = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
        getPrototypeOf: () => {
          throw new Error('trap');
        },
      },
    );
    assert.equal(failureFromError(proxy).errorType, 'Error');
    const props = failureFromError({
      errorType: 'E',
      errorMessage: 'm',
      isNonRetriable: true,
      properties: { n: 10n },
    });
    assert.equal(props.properties, undefined);
    assert.equal(props.isNonRetriable, true);
    assert.doesNotThrow(() => JSON.stringify(props));
  });

  it('should describe thrown non-errors', () => {
    assert.equal(failureFromError('plain').errorMessage, 'plain');
    assert.equal(failureFromError({ a: 1 }).errorMessage, '{"a":1}');
    assert.equal(failureFromError(10n).errorMessage, '10');
  });
});
