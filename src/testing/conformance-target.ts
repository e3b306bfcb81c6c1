import type { Backend } from '../core/backend.ts';
import type { Clock } from '../util/clock.ts';
import type { InvariantId } from './invariant-violation.ts';
import type { BackendSemantics } from './model/model-types.ts';

/** A clock the kit can move: give it to the backend, the kit advances it. */
export interface AdvanceableClock extends Clock {
  advance(ms: number): void;
}

/** What `createBackend` / `createPeer` receive for one run. */
export interface BackendContext {
  /** The run's simulated clock (absent on real time): pass it to the backend. */
  readonly clock: AdvanceableClock | undefined;
  /** 0-based number of the run, for unique hub names. */
  readonly run: number;
}

/**
 * How the conformance kit drives one `OrchestrationService` implementation.
 * Only `createBackend` and the lock lengths are required; each optional hook
 * adds commands the kit can then generate.
 */
export interface ConformanceTarget {
  /**
   * The first worker of a new, empty task hub, built with the given lock
   * lengths (and clock), and with its poison (dead-letter) limit far above
   * what one run reaches: the kit does not model dead-lettering. The kit
   * provisions (`createIfNotExists`), starts, stops and closes it.
   */
  createBackend(ctx: BackendContext): Backend | Promise<Backend>;
  /**
   * Another worker on the same hub as `of`, as a second process would be.
   * Without it the kit runs a single worker and never crashes one.
   */
  createPeer?(of: Backend, ctx: BackendContext): Backend | Promise<Backend>;
  /** A fresh simulated clock per run. Absent: real time (the kit sleeps). */
  readonly clock?: () => AdvanceableClock;
  /** Orchestration lock length of the backends (NATS: the partition lease). */
  readonly orchestrationLockMs: number;
  readonly activityLockMs: number;
  /**
   * Makes `backend` stop as a crashed process would: it makes no more
   * progress and what it held is dropped. Default: a forced stop.
   */
  crash?(backend: Backend): Promise<void>;
  /**
   * Makes `backend` stall as a paused process would: it stops renewing its
   * locks and leases on its own, so they lapse and another worker may take
   * over; it stays up and answers calls. `clearFaults` ends the pause.
   */
  pause?(backend: Backend): void;
  /** Arms a fault: the next checkpoint of `backend` fails before it has any effect. */
  failNextCheckpoint?(backend: Backend): void;
  /** Disarms what `failNextCheckpoint` armed and ends a `pause`. */
  clearFaults?(backend: Backend): void;
  /** Freedoms the contract allows the backend (defaults: the strict reading). */
  readonly semantics?: Partial<BackendSemantics>;
  /** Workers at the start of a run (1 or 2; 2 needs `createPeer`). Default 1. */
  readonly workers?: number;
  /** Receive timeout of a lock call that expects work (real time). Default 2000 ms. */
  readonly receiveTimeoutMs?: number;
  /** Receive timeout of a lock call that expects nothing. Default 0 (simulated), 150 ms. */
  readonly idleReceiveTimeoutMs?: number;
  /** Bound of the final drain on real time. Default 60 s. */
  readonly drainTimeoutMs?: number;
}

/** Which invariant a run's command mix aims at; all are checked every time. */
export type ConformanceFocus = InvariantId | 'all';
