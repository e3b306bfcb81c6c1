import type { LogFn } from 'pino';
import type { Tags } from '../core/history-event.ts';
import type { ParentInstance } from '../core/orchestration-instance.ts';
import type { RetryOptions } from './retry-policy.ts';
import type { Task, TimerTask } from './task.ts';

/** A logger for orchestrator code: writes nothing while the orchestration replays. */
export interface OrchestrationLogger {
  readonly trace: LogFn;
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  readonly fatal: LogFn;
}

export interface CallActivityOptions {
  readonly retry?: RetryOptions;
  /** Tags of this activity call, added over the orchestration's tags. */
  readonly tags?: Tags;
  readonly version?: string;
}

export interface CallSubOrchestrationOptions {
  /**
   * Child instance id. Default: `<parent instance id>:<action id as 4 hex
   * digits>`, e.g. `order-7:0003`, which is the same on every replay (a
   * parent id too long for that is cut and followed by `~` and a hash of it).
   */
  readonly instanceId?: string;
  readonly retry?: RetryOptions;
  /** Child tags; they override the parent's tags of the same name. */
  readonly tags?: Tags;
  readonly version?: string;
}

export type StartSubOrchestrationOptions = Omit<CallSubOrchestrationOptions, 'retry'>;

export interface WaitForExternalEventOptions {
  /** Fail with a `TIMEOUT` error when no event came this long after the call (a durable timer). */
  readonly timeoutMs?: number;
}

export interface ContinueAsNewOptions {
  /**
   * Hand external events that this execution received but did not consume
   * to the next execution. @default the service's `eventBehaviourForContinueAsNew`
   * (`carryover` on the bundled backends, i.e. true)
   */
  readonly preserveUnprocessedEvents?: boolean;
  /** Version of the next execution. @default the current version */
  readonly version?: string;
}

/**
 * What orchestrator code sees. Everything here is deterministic: ids, time
 * and the order of results come from history, so a replay makes the same
 * decisions as the original run.
 */
export interface OrchestrationContext {
  readonly instanceId: string;
  readonly executionId: string;
  readonly name: string;
  readonly version: string;
  readonly parent: ParentInstance | undefined;
  readonly tags: Tags;
  /** True while the executor replays events that earlier episodes already processed. */
  readonly isReplaying: boolean;
  /** Time of the episode in which the code now running first ran. */
  readonly currentUtcDateTime: Date;
  readonly log: OrchestrationLogger;

  /** Schedules an activity; the task completes with its result or fails with `TaskFailedError`. */
  callActivity<T = unknown>(name: string, input?: unknown, options?: CallActivityOptions): Task<T>;
  /** Starts a child orchestration and waits for it (`SubOrchestrationFailedError` on failure). */
  callSubOrchestration<T = unknown>(
    name: string,
    input?: unknown,
    options?: CallSubOrchestrationOptions,
  ): Task<T>;
  /**
   * Starts a child orchestration that does not report back. Returns a task
   * that is already completed with the child's instance id.
   */
  startSubOrchestration(
    name: string,
    input?: unknown,
    options?: StartSubOrchestrationOptions,
  ): Task<string>;
  /** A durable timer due at `fireAt`, or `fireAt` ms after `currentUtcDateTime`. */
  createTimer(fireAt: Date | number): TimerTask;
  /**
   * Waits for the next external event of that name (case-insensitive).
   * Events that came earlier are buffered, in order, until someone waits.
   */
  waitForExternalEvent<T = unknown>(name: string, options?: WaitForExternalEventOptions): Task<T>;
  /** All results, in order; fails with the first failure in history order. `[]` for `[]`. */
  whenAll<const T extends readonly Task<unknown>[]>(tasks: T): Task<TaskResults<T>>;
  /** The first task to finish, in history order. An empty list is an `INVALID_ARGUMENT` error. */
  whenAny<const T extends readonly Task<unknown>[]>(tasks: T): Task<T[number]>;
  /**
   * Ends this execution when the orchestrator returns and starts a new one
   * with `input`; the last call wins, a failure beats it.
   */
  continueAsNew(input?: unknown, options?: ContinueAsNewOptions): void;
  /** Raises an external event on another instance (fire and forget). */
  sendEvent(instanceId: string, name: string, data?: unknown): void;
  /** Stored (serialized) with the next checkpoint; `null` is stored as JSON null. */
  setCustomStatus(value: unknown): void;
  /** A UUID derived from the instance, the execution and a counter: the same on every replay. */
  newGuid(): string;
}

/** The result type of a task. */
export type TaskResult<T> = T extends Task<infer R> ? R : never;

/** Result types of a list of tasks, position by position. */
export type TaskResults<T extends readonly Task<unknown>[]> = {
  -readonly [K in keyof T]: TaskResult<T[K]>;
};

/** The generator an orchestrator returns; `yield` a task to wait for it. */
export type OrchestratorGenerator<TOutput> = Generator<Task<unknown>, TOutput, any>;

/** Values an inline orchestrator of unspecified output type may return. */
type PlainOutput =
  | string | number | boolean | null | undefined | readonly unknown[]
  | { readonly [key: string]: unknown };

/**
 * What a plain (non-generator) orchestrator returns. Spelled so that the
 * union with the generator type never collapses to `any` or holds `void`,
 * either of which would leave `yield` in a generator body untyped.
 */
export type InlineOutput<TOutput> = 0 extends 1 & TOutput
  ? PlainOutput
  : Exclude<TOutput, void> | undefined;

/**
 * An orchestrator: a generator function (`function* (ctx, input) {...}`), or a
 * plain function that returns its output at once (an inline orchestration).
 */
export type Orchestrator<TInput = any, TOutput = any> = (
  ctx: OrchestrationContext,
  input: TInput,
) => OrchestratorGenerator<TOutput> | InlineOutput<TOutput>;
