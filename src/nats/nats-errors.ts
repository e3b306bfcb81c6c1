import { DurableTaskError, ErrorCode } from '../core/errors.ts';

/** JetStream API code of "wrong last sequence" (a failed expected-sequence check). */
const WRONG_LAST_SEQUENCE = 10071;
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

function apiCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** True when a CAS publish or KV update lost against a newer write. */
export function isWrongLastSequence(err: unknown): boolean {
  if (apiCode(err) === WRONG_LAST_SEQUENCE) return true;
  const message = err instanceof Error ? err.message : '';
  return /wrong last sequence|key exists/i.test(message);
}

export function isStreamNotFound(err: unknown): boolean {
  return apiCode(err) === STREAM_NOT_FOUND || /stream not found/i.test(errorText(err));
}

export function isConsumerNotFound(err: unknown): boolean {
  return apiCode(err) === CONSUMER_NOT_FOUND || /consumer not found/i.test(errorText(err));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Wraps a transport or storage failure as BACKEND_ERROR naming the operation. */
export function backendError(what: string, err: unknown): DurableTaskError {
  if (err instanceof DurableTaskError) return err;
  return new DurableTaskError(ErrorCode.BACKEND_ERROR, `${what} failed: ${errorText(err)}`,
    { cause: err });
}
