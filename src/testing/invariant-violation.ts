/**
 * Ids of the properties the conformance kit checks: the lock invariants of
 * contract.md §2.5, plus the end-of-run properties (every message consumed
 * exactly once, no instance stuck) and the kit's own consistency checks.
 */
export type InvariantId =
  | 'INV-1'
  | 'INV-2'
  | 'INV-3'
  | 'INV-4'
  | 'INV-5'
  | 'INV-6'
  | 'INV-7'
  | 'INV-8'
  | 'INV-9'
  | 'EXACTLY-ONCE'
  | 'NO-STUCK'
  | 'CONTRACT';

export const LOCK_INVARIANTS: readonly InvariantId[] = [
  'INV-1',
  'INV-2',
  'INV-3',
  'INV-4',
  'INV-5',
  'INV-6',
  'INV-7',
  'INV-8',
  'INV-9',
];

/**
 * A backend broke an invariant. This is a test failure, not a product error,
 * so it is a plain `Error` (like node's AssertionError) that names the
 * invariant in `invariant` and at the start of its message.
 */
export class InvariantViolation extends Error {
  readonly invariant: InvariantId;

  constructor(invariant: InvariantId, message: string, options?: { cause?: unknown }) {
    super(`${invariant} violated: ${message}`, options);
    this.invariant = invariant;
  }

  override get name(): string {
    return 'InvariantViolation';
  }
}

export function violation(invariant: InvariantId, message: string, cause?: unknown): never {
  throw new InvariantViolation(invariant, message, cause === undefined ? undefined : { cause });
}

/** The invariant a failure names, when it is a violation (also through `cause` chains). */
export function invariantOf(err: unknown): InvariantId | undefined {
  for (let e = err, depth = 0; e && depth < 8; depth++) {
    if (e instanceof InvariantViolation) return e.invariant;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
