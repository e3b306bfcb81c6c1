import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { describeValue } from './option-checks.ts';

/**
 * The option names of `T`, listed once as an object literal so the compiler
 * checks the list against the interface: a missing name or an extra one does
 * not compile.
 */
export function optionKeys<T extends object>(names: { readonly [K in keyof Required<T>]: true }):
  readonly string[] {
  return Object.freeze(Object.keys(names));
}

/**
 * Refuses an options object with a name it does not know (a typo would
 * otherwise be ignored in silence): INVALID_ARGUMENT naming each unknown
 * name, with the known name it most likely meant. `path` prefixes the names
 * of a nested object, e.g. `versioning`.
 */
export function checkKnownKeys(owner: string, value: object, known: readonly string[],
  path?: string): void {
  const unknown = Object.keys(value).filter((k) => !known.includes(k));
  if (unknown.length === 0) return;
  const full = (k: string): string => (path === undefined ? k : `${path}.${k}`);
  const named = unknown.map((k) => {
    const near = closestName(k, known);
    return `'${full(k)}'${near === undefined ? '' : ` (did you mean '${full(near)}'?)`}`;
  });
  const noun = unknown.length === 1 ? 'option' : 'options';
  throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
    `Unknown ${owner} ${noun} ${named.join(', ')}.`);
}

/**
 * The known name `name` most likely misspells: the same letters in another
 * case, else the nearest within two edits (ties: the earlier in `known`).
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const sameLetters = known.find((k) => k.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase(), bestDistance);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  if (best !== undefined || lower.length < 4) return best;
  // A shortened name: 'status' for 'runtimeStatus', 'timeout' for 'timeoutMs'.
  const partial = known.filter((k) => {
    const kl = k.toLowerCase();
    return kl.endsWith(lower) || kl.startsWith(lower);
  });
  return partial.length === 1 ? partial[0] : undefined;
}

/**
 * Edits (insert, delete, replace, swap of neighbours) from `a` to `b`; any
 * result of `limit` or more is reported as `limit`.
 */
export function editDistance(a: string, b: string, limit = Number.MAX_SAFE_INTEGER): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  // Rows of the distance table: two back, one back, current.
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (before[j - 2] ?? 0) + 1);
      }
      row.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin >= limit) return limit;
    before = previous;
    previous = row;
  }
  return Math.min(previous[b.length] ?? 0, limit);
}

/**
 * The options argument of a call: absent (or null where `nullIsAbsent`) reads
 * as none; anything else must be an object with known names only.
 */
export function callOptions<T extends object>(call: string, given: T | undefined | null,
  known: readonly string[], nullIsAbsent = false): Partial<T> {
  if (given === undefined || (nullIsAbsent && given === null)) return {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `The options of ${call} must be an object, got ${describeValue(given)}.`);
  }
  checkKnownKeys(call, given, known);
  return given;
}

/** A boolean option: absent reads as false; anything but true or false is refused. */
export function booleanOption(call: string, name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `${call} option '${name}' must be true or false, got ${String(value)}.`);
  }
  return value;
}
