import type { Logger } from 'pino';
import type { Tags } from '../core/history-event.ts';

/** What activity code sees. */
export interface ActivityContext {
  /** The orchestration instance that scheduled the activity. */
  readonly instanceId: string;
  readonly executionId: string;
  /** The scheduling action's id (`taskScheduledId` of the result). */
  readonly taskId: number;
  readonly name: string;
  readonly version: string;
  /** The orchestration's tags with this call's tags over them. */
  readonly tags: Tags;
  /** 1 on the first delivery of this activity message. */
  readonly deliveryCount: number;
  /** Fires when the lock was lost or the worker stops by force: stop working. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** An activity: any function, sync or async; its return value must be JSON-serializable. */
export type Activity<TInput = any, TOutput = any> = (
  ctx: ActivityContext,
  input: TInput,
) => TOutput | Promise<TOutput>;
