import { DurableTaskError, ErrorCode } from './errors.ts';

/**
 * Serializes a user value to JSON text, refusing what JSON would silently
 * change or drop: functions, symbols, bigints, non-finite numbers, Maps, Sets,
 * Errors, binary data and cycles. `undefined` at the top level means "no
 * payload"; as in JSON, `undefined` object fields are left out and `undefined`
 * array entries (and holes) become `null`, and a Date becomes its ISO text.
 */
export function serializePayload(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  let problem: string | null | undefined;
  let text: string | undefined;
  try {
    // A throwing getter or proxy trap fails the walk or the stringify: both are caught.
    problem = findUnserializable(value, '$', new Set());
    if (!problem) text = JSON.stringify(value);
  } catch (err) {
    throw new DurableTaskError(
      ErrorCode.NOT_SERIALIZABLE,
      `The ${what} cannot be serialized to JSON: ${describeThrown(err)}.`,
      { cause: err },
    );
  }
  if (problem) {
    throw new DurableTaskError(
      ErrorCode.NOT_SERIALIZABLE,
      `The ${what} cannot be serialized to JSON: ${problem}.`,
    );
  }
  return text;
}

/** Parses JSON text produced by `serializePayload`; `undefined` stays `undefined`. */
export function deserializePayload<T = unknown>(
  text: string | undefined | null,
  what = 'payload',
): T {
  if (text === undefined || text === null) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new DurableTaskError(
      ErrorCode.NOT_SERIALIZABLE,
      `The stored ${what} is not valid JSON: ${(err as Error).message}.`,
      { cause: err },
    );
  }
}

function findUnserializable(value: unknown, path: string, seen: Set<object>): string | null {
  switch (typeof value) {
    case 'function':
      return `${path} is a function`;
    case 'symbol':
      return `${path} is a symbol`;
    case 'bigint':
      return `${path} is a bigint (convert it to a string or number)`;
    case 'number':
      return Number.isFinite(value) ? null : `${path} is ${String(value)}`;
    case 'object':
      break;
    default:
      return null;
  }
  if (value === null) return null;
  const obj = value as object;
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
    return `${path} is binary data (encode it, for example as base64 text)`;
  }
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return null;
  if (obj instanceof Map) return `${path} is a Map (convert it to an object or array)`;
  if (obj instanceof Set) return `${path} is a Set (convert it to an array)`;
  if (obj instanceof Error) {
    return `${path} is an Error (pass its message or a plain object instead)`;
  }
  if (seen.has(obj)) return `${path} is a circular reference`;
  seen.add(obj);
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const p = findUnserializable(obj[i], `${path}[${i}]`, seen);
      if (p) return p;
    }
  } else {
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      const p = findUnserializable(v, `${path}.${k}`, seen);
      if (p) return p;
    }
  }
  seen.delete(obj);
  return null;
}

/** The message of something thrown while reading a value, without trusting it. */
function describeThrown(err: unknown): string {
  try {
    const message = err instanceof Error ? err.message : String(err);
    return `reading it threw: ${message.slice(0, 500)}`;
  } catch {
    return 'reading it threw an unprintable value';
  }
}
