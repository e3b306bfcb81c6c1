import { DurableTaskError, ErrorCode, isDurableTaskError } from '../core/errors.ts';

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

/** Names of the NATS client's errors that mean the connection is closed or closing. */
const CLOSED_ERRORS = new Set(['ClosedConnectionError', 'DrainingConnectionError']);

/** True when the error, or one of its causes, says the NATS connection is closed or draining. */
export function isConnectionClosed(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    if (CLOSED_ERRORS.has((e as { name?: unknown }).name as string)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The error of a call on a closed backend, as the memory backend words it. */
export function backendClosedError(operation: string, hub: string, cause?: unknown):
  DurableTaskError {
  return new DurableTaskError(ErrorCode.INVALID_STATE,
    `Cannot ${operation}: the backend of task hub '${hub}' is closed.`,
    cause === undefined ? undefined : { cause });
}

/**
 * What a public method of the NATS backend throws for `err`: a
 * DurableTaskError as it is (unless the backend has closed meanwhile; a
 * BACKEND_ERROR gets the operation and instance in front of its message), a
 * closed connection or closed backend as INVALID_STATE, any other transport
 * or storage failure as BACKEND_ERROR naming the operation, with the cause.
 */
export function publicError(operation: string, hub: string, err: unknown,
  state: { closed: boolean; reconnecting: boolean }): DurableTaskError {
  const transport = !isDurableTaskError(err) || err.code === ErrorCode.BACKEND_ERROR;
  if (transport && (state.closed || isConnectionClosed(err))) {
    return backendClosedError(operation, hub, err);
  }
  if (isDurableTaskError(err) && err.code !== ErrorCode.BACKEND_ERROR) return err;
  const hint = state.reconnecting
    ? ' (the NATS server is out of reach; the backend keeps reconnecting)' : '';
  return new DurableTaskError(ErrorCode.BACKEND_ERROR,
    `${operation} on task hub '${hub}' failed: ${errorText(err)}${hint}`, { cause: err });
}
