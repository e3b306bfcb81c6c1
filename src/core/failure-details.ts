/**
 * Structured description of a failure, as it is stored in history and sent
 * between instances. JavaScript cannot rebuild error classes from text, so
 * failures travel as data; `toString` form is `<errorType>: <errorMessage>`.
 */
export interface FailureDetails {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly stackTrace?: string;
  readonly innerFailure?: FailureDetails;
  /** When true, retry policies rethrow at once without consulting `handle`. */
  readonly isNonRetriable: boolean;
  readonly properties?: Readonly<Record<string, unknown>>;
}

/** Largest error message kept inline; longer ones are cut with a marker. */
export const MAX_ERROR_MESSAGE_CHARS = 64 * 1024;
const MAX_STACK_CHARS = 16 * 1024;
const MAX_TYPE_CHARS = 256;
const MAX_PROPERTIES_CHARS = 16 * 1024;
const MAX_DEPTH = 8;

export function failureToString(details: FailureDetails): string {
  return `${details.errorType}: ${details.errorMessage}`;
}

/** `text` cut to `max` characters, with a marker that says how many were dropped. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const dropped = text.length - max;
  return `${text.slice(0, max)}… [truncated ${dropped} characters]`;
}

/** Reads a property without letting a throwing getter or proxy trap escape. */
function read(obj: unknown, key: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function text(value: unknown, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    return truncate(typeof value === 'string' ? value : String(value), max);
  } catch {
    return undefined;
  }
}

/**
 * Turns anything thrown into failure details: plain data, bounded in size,
 * safe to serialize. Messages, stacks and type names are cut so that a
 * multi-megabyte error text cannot block a checkpoint; getters that throw,
 * proxies and unserializable properties never escape.
 */
export function failureFromError(err: unknown, depth = 0): FailureDetails {
  let isError = false;
  try {
    isError = err instanceof Error;
  } catch {
    isError = false;
  }
  if (isError || looksLikeFailure(err)) {
    const shaped = !isError;
    const details: {
      errorType: string;
      errorMessage: string;
      stackTrace?: string;
      innerFailure?: FailureDetails;
      isNonRetriable: boolean;
      properties?: Record<string, unknown>;
    } = {
      errorType:
        (shaped ? text(read(err, 'errorType'), MAX_TYPE_CHARS) : errorTypeName(err)) ?? 'Error',
      errorMessage:
        text(read(err, shaped ? 'errorMessage' : 'message'), MAX_ERROR_MESSAGE_CHARS) ?? '',
      isNonRetriable: read(err, 'isNonRetriable') === true,
    };
    const stack = text(read(err, shaped ? 'stackTrace' : 'stack'), MAX_STACK_CHARS);
    if (stack !== undefined) details.stackTrace = stack;
    const inner = read(err, shaped ? 'innerFailure' : 'cause');
    if (inner !== undefined && inner !== null && depth < MAX_DEPTH) {
      details.innerFailure = failureFromError(inner, depth + 1);
    }
    const properties = safeProperties(read(err, 'properties'));
    if (properties) details.properties = properties;
    return details;
  }
  let message: string | undefined;
  try {
    message = typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  } catch {
    message = text(err, MAX_ERROR_MESSAGE_CHARS);
  }
  return {
    errorType: 'Error',
    errorMessage: truncate(message ?? 'an unprintable value was thrown', MAX_ERROR_MESSAGE_CHARS),
    isNonRetriable: false,
  };
}

function errorTypeName(err: unknown): string {
  const name = read(err, 'name');
  if (typeof name === 'string' && name && name !== 'Error') return truncate(name, MAX_TYPE_CHARS);
  const ctor = read(err, 'constructor');
  const ctorName = typeof ctor === 'function' ? read(ctor, 'name') : undefined;
  return typeof ctorName === 'string' && ctorName ? truncate(ctorName, MAX_TYPE_CHARS) : 'Error';
}

/** Custom properties survive only as bounded, JSON-safe data. */
function safeProperties(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  try {
    const json = JSON.stringify(value);
    if (json === undefined || json.length > MAX_PROPERTIES_CHARS) return undefined;
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function looksLikeFailure(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return (
    typeof read(value, 'errorType') === 'string' && typeof read(value, 'errorMessage') === 'string'
  );
}

/** True for a well-formed failure-details object (fields of the right types). */
export function isFailureDetails(value: unknown): value is FailureDetails {
  if (typeof value !== 'object' || value === null) return false;
  return looksLikeFailure(value) && typeof read(value, 'isNonRetriable') === 'boolean';
}
