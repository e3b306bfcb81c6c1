import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { describeValue } from '../util/option-checks.ts';
import { decodeInstanceId } from './names.ts';

/** Marks tokens this backend issued (and their layout version). */
const PREFIX = 'q1.';

/** The continuation token of a query page that ends at this instance-id token. */
export function encodeQueryToken(instanceToken: string): string {
  return PREFIX + instanceToken;
}

/**
 * The instance-id token a continuation token resumes after; undefined for
 * none (absent or null). Anything this backend did not issue is INVALID_ARGUMENT.
 */
export function decodeQueryToken(token: unknown): string | undefined {
  if (token === undefined || token === null) return undefined;
  if (typeof token === 'string' && token.startsWith(PREFIX)) {
    const inner = token.slice(PREFIX.length);
    try {
      decodeInstanceId(inner);
      return inner;
    } catch {
      // reported below
    }
  }
  throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
    `The continuation token ${describeValue(token)} is not one this backend issued.`);
}
