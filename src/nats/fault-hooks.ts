/** What a fault hook may ask the backend to do at its point. */
export type FaultAction = 'continue' | 'skip';

/** Facts about a checkpoint handed to the commit hooks. */
export interface CommitFaultInfo {
  readonly instanceId: string;
  readonly executionId: string;
  /** Stream sequence of the commit message. */
  readonly commitSeq: number;
}

/**
 * Fault-injection points for tests (backend options, never globals). A hook
 * returning 'skip' makes the backend behave as if its process died at that
 * point: the rest of that step is not done.
 */
export interface NatsFaultHooks {
  /**
   * After the commit publish succeeded, before the owner sends the outbox,
   * acks the batch and writes the instance record. 'skip' leaves all of that
   * to the relay (as if the sender died right after its commit).
   */
  readonly afterCommit?: (info: CommitFaultInfo) => FaultAction;
  /** Before the relay handles a commit it did not send itself. */
  readonly beforeRelay?: (info: CommitFaultInfo) => FaultAction;
  /**
   * Asked before each lease round (heartbeat, renewals, balancing); true
   * skips the round, as a paused process would.
   */
  readonly pauseLeases?: () => boolean;
}
