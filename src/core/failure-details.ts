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
const MAX_DEPTH = 8;

export function failureToString(details: FailureDetails): string {
  return `${details.errorType}: ${details.errorMessage}`;
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const dropped = text.length - max;
  return `${text.slice(0, max)}… [truncated ${dropped} characters]`;
}

/**
 * Turns anything thrown into failure details. Messages and stacks are bounded
 * so that a multi-megabyte error text cannot block a checkpoint.
 */
export function failureFromError(err: unknown, depth = 0): FailureDetails {
  if (err instanceof Error) {
    const marked = err as Error & { isNonRetriable?: unknown; failureDetails?: unknown };
    const cause = (err as { cause?: unknown }).cause;
    const details: {
      errorType: string;
      errorMessage: string;
      stackTrace?: string;
      innerFailure?: FailureDetails;
      isNonRetriable: boolean;
    } = {
      errorType: errorTypeName(err),
      errorMessage: truncate(String(err.message ?? ''), MAX_ERROR_MESSAGE_CHARS),
      isNonRetriable: marked.isNonRetriable === true,
    };
    if (typeof err.stack === 'string') details.stackTrace = truncate(err.stack, MAX_STACK_CHARS);
    if (cause !== undefined && depth < MAX_DEPTH) {
      details.innerFailure = isFailureDetails(cause) ? cause : failureFromError(cause, depth + 1);
    }
    return details;
  }
  if (isFailureDetails(err)) return err;
  let message: string;
  try {
    message = typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  } catch {
    message = String(err);
  }
  return {
    errorType: 'Error',
    errorMessage: truncate(message, MAX_ERROR_MESSAGE_CHARS),
    isNonRetriable: false,
  };
}

function errorTypeName(err: Error): string {
  const name = err.name && err.name !== 'Error' ? err.name : err.constructor?.name;
  return name || 'Error';
}

export function isFailureDetails(value: unknown): value is FailureDetails {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['errorType'] === 'string' &&
    typeof v['errorMessage'] === 'string' &&
    typeof v['isNonRetriable'] === 'boolean'
  );
}
