import { isDurableTaskError } from '../../core/errors.ts';
import { violation, type InvariantId } from '../invariant-violation.ts';
import { eventSignature } from '../message-keys.ts';
import type { ServiceModel } from '../model/service-model.ts';
import type { RealSystem } from '../real-system.ts';

/** How a backend call ended, with the model times that bracket it. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T; readonly tBefore: number; readonly tAfter: number }
  | {
      readonly ok: false;
      readonly kind: 'lost' | 'fault';
      readonly error: unknown;
      readonly tBefore: number;
      readonly tAfter: number;
    };

/**
 * Runs one backend call of a holder. LOCK_LOST and SESSION_ABORTED are the
 * allowed refusals; BACKEND_ERROR is allowed only from a worker with an
 * armed checkpoint fault; anything else breaks the contract.
 */
export async function attempt<T>(
  r: RealSystem,
  what: string,
  fn: () => Promise<T>,
  faultFrom?: { model: ServiceModel; worker: number },
): Promise<Outcome<T>> {
  const tBefore = r.time.now();
  try {
    const value = await fn();
    return { ok: true, value, tBefore, tAfter: r.time.now() };
  } catch (error) {
    const tAfter = r.time.now();
    if (isDurableTaskError(error, 'LOCK_LOST') || isDurableTaskError(error, 'SESSION_ABORTED')) {
      return { ok: false, kind: 'lost', error, tBefore, tAfter };
    }
    if (
      faultFrom &&
      faultFrom.model.faultArmed.has(faultFrom.worker) &&
      isDurableTaskError(error, 'BACKEND_ERROR')
    ) {
      faultFrom.model.faultArmed.delete(faultFrom.worker);
      return { ok: false, kind: 'fault', error, tBefore, tAfter };
    }
    return violation(
      'CONTRACT',
      `${what} failed with an error the contract does not allow ` + `there: ${describe(error)}`,
      error,
    );
  }
}

/** Runs a call that must not fail at all (client calls, release). */
export async function must<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    return violation('CONTRACT', `${what} failed: ${describe(error)}`, error);
  }
}

export function describe(err: unknown): string {
  if (isDurableTaskError(err)) return `${err.code}: ${err.message}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Compares what the backend stores for an instance (history of the current
 * execution, latest status record) with the model. `invariant` names what a
 * difference breaks (INV-6 after a commit, INV-2 after a fenced call...).
 */
export async function verifyInstance(
  m: ServiceModel,
  r: RealSystem,
  instanceId: string,
  invariant: InvariantId,
  context: string,
): Promise<void> {
  const inst = m.orch.instances.get(instanceId);
  if (!inst) return;
  const client = r.client;
  const history = (
    await must(`reading the history of '${instanceId}'`, () =>
      client.getOrchestrationHistory(instanceId),
    )
  ).map(eventSignature);
  if (!sameList(history, inst.history)) {
    violation(
      invariant,
      `${context}: the stored history of '${instanceId}' differs from the ` +
        `committed one.\n  stored:    ${history.join(', ') || '(none)'}\n  committed: ` +
        `${inst.history.join(', ') || '(none)'}`,
    );
  }
  const [state] = await must(`reading the status of '${instanceId}'`, () =>
    client.getOrchestrationState(instanceId),
  );
  if (!state) {
    const childPending = !inst.root && inst.status === 'Pending';
    if (childPending && !m.sem.pendingRecordForChildren) return;
    violation(
      invariant,
      `${context}: instance '${instanceId}' has no status record ` + `(model: ${inst.status})`,
    );
  }
  if (
    state.orchestrationStatus !== inst.status ||
    state.orchestrationInstance.executionId !== inst.executionId
  ) {
    violation(
      invariant,
      `${context}: the status record of '${instanceId}' says ` +
        `${state.orchestrationStatus} (execution ${state.orchestrationInstance.executionId}); ` +
        `model: ${inst.status} (execution ${inst.executionId})`,
    );
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Picks an element by a generated number (modulo), or undefined from an empty list. */
export function pick<T>(list: readonly T[], n: number): T | undefined {
  return list.length === 0 ? undefined : list[n % list.length];
}

/** Real-time renewals this close to the last one may return the same deadline. */
const REAL_TIME_GRANULARITY_MS = 100;

/**
 * INV-5: a renewal's deadline is later than the previous one and in the
 * future. On real time a renewal right after another (a shared lease update)
 * may keep the same deadline.
 */
export function movedForward(
  r: RealSystem,
  lastSetAt: number,
  before: number,
  after: number,
  now: number,
): boolean {
  if (after < before || after <= now) return false;
  if (after > before || now === lastSetAt) return true;
  return !r.time.simulated && now - lastSetAt < REAL_TIME_GRANULARITY_MS;
}
