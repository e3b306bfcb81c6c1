import type { InvariantId } from '../invariant-violation.ts';
import type { BackendSemantics, HolderState } from './model-types.ts';

/** What the model requires of one holder call. */
export type CallExpectation = 'succeed' | 'fail' | 'either';

export type HolderCall = 'complete' | 'renew' | 'abandon';

/** The parts of a holder (orchestration or activity) the rules read. */
export interface HolderView {
  readonly state: HolderState;
  readonly superseded: boolean;
  readonly crashed: boolean;
  readonly lockedUntil: number;
}

/**
 * The rule book for renew / complete / abandon by a holder (contract.md
 * §2.5 INV-2 and the work-item machine of design §3): a holder that gave its
 * lock up, lost it, or was superseded by a later holder must fail; a holder
 * whose deadline has not come must succeed when time is exact; near or past
 * the deadline either outcome is allowed, as long as a failure changes nothing.
 *
 * `tBefore` / `tAfter` bracket the call on the model's clock.
 */
export function expectCall(
  h: HolderView,
  call: HolderCall,
  tBefore: number,
  tAfter: number,
  sem: BackendSemantics,
  options: { readonly repeatCompleteIsNoOp?: boolean } = {},
): CallExpectation {
  // Repeating an accepted completion may be a harmless no-op (memory activities).
  const repeat = h.state === 'completed' && call === 'complete';
  if (repeat && options.repeatCompleteIsNoOp) return 'either';
  // Giving up twice may be a harmless no-op, also after the worker crashed.
  const gaveUp = h.state === 'released' || h.state === 'abandoned';
  if (gaveUp && call === 'abandon') return 'either';
  if (h.crashed && sem.crashReleasesLocks) return 'fail';
  switch (h.state) {
    case 'lost':
      return 'fail';
    case 'released':
    case 'abandoned':
      return 'fail';
    case 'completed':
      // An ordinary (non-session) work item accepts only release after its checkpoint.
      return 'fail';
    case 'held':
      break;
  }
  if (h.superseded) return 'fail';
  if (tBefore >= h.lockedUntil) return 'either';
  if (tAfter < h.lockedUntil) return sem.exactTime ? 'succeed' : 'either';
  return 'either';
}

/** The invariant a holder call breaks when it succeeds although it had to fail. */
export function fencingInvariant(kind: 'orchestration' | 'activity'): InvariantId {
  return kind === 'activity' ? 'INV-7' : 'INV-2';
}

/** The invariant a valid holder's call breaks when it fails although it had to succeed. */
export function livenessInvariant(
  renewed: boolean,
  kind: 'orchestration' | 'activity',
): InvariantId {
  if (renewed) return 'INV-5';
  return kind === 'activity' ? 'INV-7' : 'CONTRACT';
}
