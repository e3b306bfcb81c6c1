import { SubOrchestrationFailedError, TaskFailedError } from '../core/errors.ts';
import { failureFromError, type FailureDetails } from '../core/failure-details.ts';

/**
 * Failure details of an orchestration that ended with `err`. An activity or
 * sub-orchestration failure keeps the failure that caused it as its inner
 * failure. Messages are bounded by `failureFromError`.
 */
export function orchestrationFailure(err: unknown): FailureDetails {
  const details = failureFromError(err);
  if ((err instanceof TaskFailedError || err instanceof SubOrchestrationFailedError) &&
    !details.innerFailure) {
    return { ...details, innerFailure: err.failureDetails };
  }
  return details;
}
