import type { OrchestrationStatus } from '../../core/orchestration-status.ts';
import type { MessageKind } from '../message-keys.ts';

/**
 * The state of the conformance model: the small, obviously correct picture
 * of contract.md §2.5 that the kit keeps next to a real backend. It knows
 * which messages exist, which instance each one waits in, who holds which
 * instance or activity, and what committed checkpoints consumed.
 */

/** Where a message is in its life, as far as the model can tell. */
export type MessageFate =
  /** Must be consumed, exactly once, by a committed checkpoint. */
  | 'pending'
  /** A committed checkpoint consumed it. */
  | 'consumed'
  /**
   * Its target finished or moved to a new execution: the backend may drop it
   * or deliver it; it is consumed at most once.
   */
  | 'orphaned';

/** Who made a message: decides which invariant a lost message breaks. */
export type MessageOrigin = 'client' | 'checkpoint' | 'activity';

export interface ModelMessage {
  readonly key: string;
  readonly instanceId: string;
  /** The execution it names; undefined: whichever execution is current. */
  readonly executionId: string | undefined;
  readonly kind: MessageKind;
  readonly origin: MessageOrigin;
  /** Not deliverable before this time (timers, scheduled starts); 0: at once. */
  readonly notBefore: number;
  /** Step of the command that sent it, for reports. */
  readonly step: number;
  fate: MessageFate;
  /** Committed checkpoints whose batch held it. */
  commits: number;
  /** Times it was handed out in a work item. */
  deliveries: number;
  /** It was in a batch that was given back (abandon, release, lapse, crash). */
  returned: boolean;
  /** It was in the batch of a checkpoint that failed (injected fault): it must come back. */
  faulted: boolean;
  /** A checkpoint of its instance committed while it waited, without it in the batch. */
  bypassed: boolean;
  /** It may never arrive (sent by a call that failed on a backend without atomic sends). */
  uncertain: boolean;
  /**
   * A parent's start for an instance that already exists. The backend may drop
   * it, or (contract.md Appendix C, item 10: decided at lock time) re-create the
   * instance with it if the instance has finished by then.
   */
  recreates: boolean;
}

export interface ModelInstance {
  readonly instanceId: string;
  executionId: string;
  status: OrchestrationStatus;
  /** Signatures of the current execution's committed history (see `eventSignature`). */
  history: string[];
  /** Next action id in the current execution. */
  nextActionId: number;
  /** Created by the client (a client may send it events); false for sub-orchestrations. */
  readonly root: boolean;
  readonly parent:
    | { readonly instanceId: string; readonly executionId: string; readonly taskScheduleId: number }
    | undefined;
  /** Keys of every message sent to the instance, in enqueue order. */
  readonly queue: string[];
}

/** The holder's view of its lock, from the calls it made. */
export type HolderState = 'held' | 'completed' | 'abandoned' | 'released' | 'lost';

export interface ModelHolder {
  readonly id: number;
  readonly worker: number;
  readonly instanceId: string;
  /** Keys of the locked batch, in delivery order. */
  readonly batch: readonly string[];
  readonly lockedAt: number;
  lockedUntil: number;
  state: HolderState;
  /** A later work item of the same instance was handed out: this holder is stale. */
  superseded: boolean;
  /** Its worker crashed. */
  crashed: boolean;
  /** It renewed at least once with success. */
  renewed: boolean;
  /** When its lock was last set (lock or renew). */
  lockSetAt: number;
  /** Its checkpoint failed (injected fault): the lock must be as it was before. */
  faulted: boolean;
}

export interface ModelActivity {
  readonly key: string;
  readonly instanceId: string;
  readonly executionId: string;
  readonly taskId: number;
  readonly step: number;
  /** A completion was accepted: the response went to the owner. */
  done: boolean;
  returned: boolean;
  deliveries: number;
}

export interface ModelActivityHolder {
  readonly id: number;
  readonly worker: number;
  readonly key: string;
  lockedUntil: number;
  state: HolderState;
  superseded: boolean;
  crashed: boolean;
  renewed: boolean;
  lockSetAt: number;
}

/** What differs between backends in ways the contract allows. */
export interface BackendSemantics {
  /**
   * Time is simulated and lock deadlines are exact: a holder whose deadline
   * has not come must succeed. On real time a call near or past its deadline
   * may fail either way.
   */
  readonly exactTime: boolean;
  /**
   * A crashed worker's locks end at once (default when the target has no
   * `crash` hook: the kit's crash is then a forced stop); else at their deadline.
   */
  readonly crashReleasesLocks: boolean;
  /**
   * An activity completion removes the message and sends the response as
   * one step. JetStream publishes, then acks: a failed completion may have
   * sent the response (design 9.16); one response per task is still applied.
   */
  readonly atomicActivityCompletion: boolean;
  /** A sub-orchestration start writes a Pending record at once (contract 2.7.4, "should"). */
  readonly pendingRecordForChildren: boolean;
}
