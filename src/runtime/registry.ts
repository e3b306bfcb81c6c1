import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { validateName } from '../core/validation.ts';

/**
 * Orchestrations or activities by (name, version). A lookup takes the exact
 * version, else the registration without a version; names are case-sensitive.
 */
export class Registry<T> {
  readonly #entries = new Map<string, T>();
  readonly #what: string;

  constructor(what: string) {
    this.#what = what;
  }

  add(name: string, value: T, version = ''): void {
    validateName(name, this.#what);
    if (typeof version !== 'string') {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `The version of ${this.#what} '${name}' must be a string.`);
    }
    const key = `${name}\u0000${version}`;
    if (this.#entries.has(key)) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `An ${this.#what} named '${name}'${version ? ` (version '${version}')` : ''} ` +
        'is already registered.');
    }
    this.#entries.set(key, value);
  }

  get(name: string, version = ''): T | undefined {
    return this.#entries.get(`${name}\u0000${version}`) ??
      (version === '' ? undefined : this.#entries.get(`${name}\u0000`));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The registered names (each once, whatever its versions). */
  names(): string[] {
    return [...new Set([...this.#entries.keys()].map((k) => k.slice(0, k.indexOf('\u0000'))))];
  }
}
