import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { MAX_TIMEOUT_MS } from './clock.ts';
import { checkKnownKeys } from './option-keys.ts';

/**
 * Checks of option values for the option resolvers (worker, client, both
 * backends). Each throws `INVALID_ARGUMENT` naming the owner, the option and
 * the value it got; `undefined` means "not given" and yields the fallback.
 */
export class OptionChecks {
  /** @param owner how messages name the options' owner, e.g. `TaskHubWorker`. */
  constructor(readonly owner: string) {}

  fail(name: string, rule: string, value: unknown): never {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `${this.owner} option '${name}' must be ${rule}, got ${describeValue(value)}.`);
  }

  /** A whole number from `min` to `max` (a count). */
  integer(name: string, value: unknown, fallback: number,
    range: { min: number; max?: number }): number {
    if (value === undefined) return fallback;
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min ||
      value > max) {
      this.fail(name, `an integer from ${range.min} to ${max}`, value);
    }
    return value;
  }

  /**
   * Milliseconds from `min` to `max`; `max` defaults to 2^31-1, the longest
   * delay a timer takes, for durations that feed timers.
   */
  duration(name: string, value: unknown, fallback: number,
    range: { min: number; max?: number }): number {
    if (value === undefined) return fallback;
    const max = range.max ?? MAX_TIMEOUT_MS;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min ||
      value > max) {
      this.fail(name, `a number of milliseconds from ${range.min} to ${max}`, value);
    }
    return value;
  }

  oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
    }
    return value as T;
  }

  boolean(name: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(name, 'true or false', value);
    return value;
  }

  /** A string matching `pattern` (described by `rule`). */
  string(name: string, value: unknown, pattern: RegExp, rule: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !pattern.test(value)) this.fail(name, rule, value);
    return value;
  }

  /** An object that has every listed method. */
  methods<T>(name: string, value: T | undefined, methods: readonly string[]): T | undefined {
    if (value === undefined) return undefined;
    const ok = typeof value === 'object' && value !== null &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
    if (!ok) this.fail(name, `an object with ${methods.map((m) => `${m}()`).join(', ')}`, value);
    return value;
  }

  /** A plain object (of hooks or settings). */
  object<T>(name: string, value: T | undefined): T | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(name, 'an object', value);
    }
    return value;
  }

  /** An array of functions (middleware). */
  functions<T>(name: string, value: readonly T[] | undefined): readonly T[] {
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((f) => typeof f !== 'function')) {
      this.fail(name, 'an array of functions', value);
    }
    return value;
  }
}

/** The options object itself: absent is `{}`; anything but a plain object is refused. */
export function optionsObject<T extends object>(owner: string, value: T | undefined | null): T {
  if (value === undefined) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `${owner} options must be an object, got ${describeValue(value)}.`);
  }
  return value;
}

/**
 * The options of a worker or client: an object with known names only, and
 * not the backend itself (`new TaskHubWorker(backend)` for
 * `new TaskHubWorker({ backend })` gets a message that says so).
 */
export function hostOptions<T extends object>(owner: string, value: T | undefined | null,
  known: readonly string[]): T {
  const o = optionsObject(owner, value);
  if ('service' in o && 'client' in o && !('backend' in o)) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `${owner} takes options with the backend in them: new ${owner}({ backend }), ` +
      'not the backend itself.');
  }
  checkKnownKeys(owner, o, known);
  return o;
}

/** A short, safe rendering of any value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' ||
    value === undefined || value === null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 80));
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? typeof value : text.slice(0, 80);
  } catch {
    return typeof value;
  }
}
