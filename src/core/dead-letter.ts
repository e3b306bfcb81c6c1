import { ErrorCode } from './errors.ts';
import type { FailureDetails } from './failure-details.ts';
import type { TaskMessage } from './task-message.ts';

/** Error type of the failure a backend reports when it dead-letters a message. */
export const POISON_ERROR_TYPE = 'PoisonMessage';

/**
 * A message a backend gave up on: it failed `deliveries` deliveries (the
 * backend's `maxDeliveries`), was copied here and removed from its queue. The
 * instance that waited on it was told (an activity: TaskFailed to its
 * orchestration; an orchestration message: the instance failed).
 */
export interface DeadLetter {
  /** The queue it came from. */
  readonly kind: 'orchestration' | 'activity';
  /** The instance it was for (an activity's owner). */
  readonly instanceId: string;
  readonly executionId?: string;
  readonly eventType: string;
  /** Failed deliveries when it was given up. */
  readonly deliveries: number;
  readonly reason: string;
  readonly deadLetteredAt: Date;
  /** The message as it was queued. */
  readonly message: TaskMessage;
}

export interface DeadLetterQuery {
  /** Only dead letters of this instance. */
  readonly instanceId?: string;
  /** At most this many, oldest first. @default 100 */
  readonly limit?: number;
}

/** Why a message was dead-lettered, in words. */
export function poisonReason(deliveries: number, limit: number): string {
  return `it failed ${deliveries} deliveries (limit ${limit})`;
}

/**
 * The failure an instance sees when a message it waited on is dead-lettered:
 * non-retriable, with `properties.code` = `POISON_MESSAGE`.
 */
export function poisonFailure(what: string, deliveries: number, limit: number): FailureDetails {
  return {
    errorType: POISON_ERROR_TYPE,
    errorMessage: `${what} was moved to the dead letters: ${poisonReason(deliveries, limit)}.`,
    isNonRetriable: true,
    properties: { code: ErrorCode.POISON_MESSAGE, deliveries, limit },
  };
}

/** Describes a message for a poison failure: its event type and the instance it was for. */
export function describeMessage(message: TaskMessage): string {
  const e = message.event;
  if (e.type === 'TaskScheduled') return `Activity '${e.name}' (task #${e.eventId})`;
  return `A ${e.type} message for instance '${message.orchestrationInstance.instanceId}'`;
}
