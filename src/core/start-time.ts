import { DurableTaskError, ErrorCode } from './errors.ts';
import type { TaskMessage } from './task-message.ts';

/**
 * The creation message with its start event's `scheduledStartTime` in UTC
 * ISO 8601 form (`...Z`), whatever offset it was given in, so the record and
 * history store the UTC time (case 59). The same message when it has none;
 * INVALID_ARGUMENT for a time that does not parse.
 */
export function withUtcStartTime(message: TaskMessage): TaskMessage {
  const event = message.event;
  if (event.type !== 'ExecutionStarted' || event.scheduledStartTime === undefined) return message;
  const at = typeof event.scheduledStartTime === 'string'
    ? Date.parse(event.scheduledStartTime) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `The scheduled start time ${JSON.stringify(event.scheduledStartTime)} is not a valid ` +
      'ISO 8601 time.');
  }
  const utc = new Date(at).toISOString();
  if (utc === event.scheduledStartTime) return message;
  return { ...message, event: { ...event, scheduledStartTime: utc } };
}
