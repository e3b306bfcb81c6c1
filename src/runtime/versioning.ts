import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { FailureDetails } from '../core/failure-details.ts';

/** Worker versioning (contract.md §3.17). */
export interface VersioningOptions {
  /** This worker's version. */
  readonly version: string;
  /**
   * `strict`: only instances of exactly this version; `currentOrOlder`:
   * instances whose version is not newer; `none`: no check.
   */
  readonly match: 'none' | 'strict' | 'currentOrOlder';
  /**
   * `fail`: the instance fails (non-retriable); `reject`: the work item is abandoned for another
   * worker.
   */
  readonly onMismatch: 'fail' | 'reject';
}

/** The work item was handed back because this worker's version does not serve the instance. */
export class VersionMismatchError extends DurableTaskError {
  constructor(message: string) {
    super(ErrorCode.INVALID_STATE, message, { nonRetriable: true });
  }
}

/** Compares dotted versions part by part, numerically where both parts are numbers. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isFinite(nx) && Number.isFinite(ny) && x !== '' && y !== ''
      ? nx - ny
      : x.localeCompare(y);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

/** Why this worker must not run an instance of `instanceVersion`, or undefined when it may. */
export function versionMismatch(options: VersioningOptions | undefined,
  instanceVersion: string): string | undefined {
  if (!options || options.match === 'none') return undefined;
  const ok = options.match === 'strict'
    ? instanceVersion === options.version
    : compareVersions(instanceVersion, options.version) <= 0;
  if (ok) return undefined;
  return `The orchestration version '${instanceVersion}' does not match this worker's version ` +
    `'${options.version}' (${options.match}).`;
}

export function versionMismatchFailure(message: string): FailureDetails {
  return { errorType: 'VersionMismatch', errorMessage: message, isNonRetriable: true };
}
