import type { WorkItemLock } from '../../actors/work-item-lock.ts';
import { DurableTaskError, ErrorCode, isDurableTaskError } from '../core/errors.ts';
import type { WorkItemFaultHooks } from '../core/fault-hooks.ts';
import type { TaskMessage } from '../core/task-message.ts';
import type {
  ActivityWorkItem, OrchestrationCompletion, OrchestrationWorkItem,
} from '../core/work-item.ts';
import type { Logger } from '../logging/logger.ts';
import { faultInjected } from '../logging/nats-events.ts';

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
 * Fault-injection points for tests (backend options, never globals): the
 * hooks every backend offers (`WorkItemFaultHooks`), plus NATS's own. The
 * backend keeps its own copy (`backend.faults`), which tests may change while
 * it runs. Here the checkpoint hooks run before the commit publish, whose
 * revision check also fences a holder whose instance moved on meanwhile.
 */
export interface NatsFaultHooks extends WorkItemFaultHooks {
  /**
   * After the commit publish succeeded, before the owner sends the outbox,
   * acks the batch and writes the instance record. 'skip' leaves all of that
   * to the relay (as if the sender died right after its commit).
   */
  afterCommit?: (info: CommitFaultInfo) => FaultAction;
  /**
   * Runs right before a checkpoint's commit publish, after every lock check.
   * It may wait: the publish then goes out as if it had been on the wire all
   * along (a stale holder whose commit lands after its lease moved on).
   */
  beforeCommitPublish?: (info: { readonly instanceId: string }) => void | Promise<void>;
  /** Before the relay handles a commit it did not send itself. */
  beforeRelay?: (info: CommitFaultInfo) => FaultAction;
  /**
   * Asked before each lease round (heartbeat, renewals, balancing); true
   * skips the round, as a paused process would.
   */
  pauseLeases?: () => boolean;
}

type CountedFault = 'failCheckpoints' | 'failActivityCompletions' | 'failOrchestrationRenewals' |
  'failActivityRenewals';

/**
 * Runs the fault hooks at their points. Every method is a no-op (one field
 * read) while the hook it serves is not set.
 */
export class FaultInjector {
  constructor(readonly hooks: NatsFaultHooks, private readonly log: Logger) {}

  /** Throws BACKEND_ERROR when the counter of `fault` is above zero (and counts it down). */
  count(fault: CountedFault, instanceId: string | undefined): void {
    const left = this.hooks[fault] ?? 0;
    if (left <= 0) return;
    this.hooks[fault] = left - 1;
    faultInjected(this.log, fault, instanceId);
    throw new DurableTaskError(ErrorCode.BACKEND_ERROR,
      `Injected fault '${fault}' (NATS backend option faults.${fault}).`);
  }

  /** True when some counter or completion hook is set (the hot path reads only this). */
  get armed(): boolean {
    const h = this.hooks;
    return (h.failCheckpoints ?? 0) > 0 || (h.failActivityCompletions ?? 0) > 0 ||
      (h.failOrchestrationRenewals ?? 0) > 0 || (h.failActivityRenewals ?? 0) > 0 ||
      h.beforeCheckpoint !== undefined || h.beforeActivityCompletion !== undefined;
  }

  /** The checkpoint faults: the counter, then the hook (which may stall). */
  async checkpoint(item: OrchestrationWorkItem, completion: OrchestrationCompletion):
    Promise<void> {
    heldLock(item.lockToken)?.check('complete');
    this.count('failCheckpoints', item.instanceId);
    const hook = this.hooks.beforeCheckpoint;
    if (hook) await this.run('beforeCheckpoint', item.instanceId, () => hook(item, completion));
  }

  /** The activity-completion faults: the counter, then the hook (which may stall). */
  async activityCompletion(item: ActivityWorkItem, response: TaskMessage): Promise<void> {
    const owner = item.taskMessage.orchestrationInstance.instanceId;
    heldLock(item.lockToken)?.check('complete');
    this.count('failActivityCompletions', owner);
    const hook = this.hooks.beforeActivityCompletion;
    if (hook) await this.run('beforeActivityCompletion', owner, () => hook(item, response));
  }

  private async run(name: string, instanceId: string, fn: () => void | Promise<void>):
    Promise<void> {
    try {
      await fn();
    } catch (err) {
      faultInjected(this.log, name, instanceId);
      if (isDurableTaskError(err)) throw err;
      throw new DurableTaskError(ErrorCode.BACKEND_ERROR,
        `Fault hook ${name} failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err });
    }
  }
}

/** The work-item machine of a NATS lock token, so hooks run only for a call it accepts. */
function heldLock(token: unknown): WorkItemLock | undefined {
  const lock = (token as { lock?: unknown } | null)?.lock;
  return typeof lock === 'object' && lock !== null && 'check' in lock
    ? lock as WorkItemLock : undefined;
}
