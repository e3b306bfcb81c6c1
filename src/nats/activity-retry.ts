import type { JsMsg } from '@nats-io/jetstream';
import type { HubResources } from './hub-resources.ts';
import { decodeJson, encodeJson, type TimerEntry, type WireTaskMessage } from './wire.ts';

const FAILURES = 'Dt-Failed-Deliveries';
const DELIVERIES = 'Dt-Deliveries';

/** What earlier copies of an activity message went through (before it was sent again). */
export interface ActivityHistory {
  /** Failed deliveries of the earlier copies. */
  readonly failures: number;
  /** All deliveries of the earlier copies. */
  readonly deliveries: number;
}

/** The history an activity message carries in its headers (zeros for a first copy). */
export function activityHistory(js: JsMsg): ActivityHistory {
  const count = (key: string): number => {
    const n = Number(js.headers?.get(key) ?? 0);
    return Number.isInteger(n) && n > 0 ? n : 0;
  };
  return { failures: count(FAILURES), deliveries: count(DELIVERIES) };
}

/** Failed deliveries of this activity so far, all copies together, this one not counted. */
export function failedBefore(js: JsMsg): number {
  return activityHistory(js).failures + js.info.deliveryCount - 1;
}

/** Deliveries of this activity, all copies together, this one included. */
export function deliveriesSoFar(js: JsMsg): number {
  return activityHistory(js).deliveries + js.info.deliveryCount;
}

/**
 * Gives an activity a worker did not run (its type is not registered here)
 * back without counting the delivery toward the poison limit: JetStream
 * counts every delivery of a message, so a copy is sent instead, after
 * `delayMs`, through the partition's timer index, carrying the failed and
 * total deliveries so far in its headers. The original is then removed. A
 * crash between the two leaves both, which only runs the activity twice.
 */
export async function sendAgainLater(res: HubResources, js: JsMsg, delayMs: number,
  now: number): Promise<void> {
  const parts = js.subject.split('.');
  const partition = Number(parts[3]);
  const token = parts[4] ?? '';
  const msg = decodeJson<WireTaskMessage>(js.data, 'activity message');
  const exec = msg.orchestrationInstance.executionId || 'none';
  const deliveries = deliveriesSoFar(js);
  const name = `a${msg.event.eventId}.${deliveries}`;
  const entry: TimerEntry = {
    subject: js.subject,
    id: res.names.outboxMessageId(token, exec, 'act', `${msg.event.eventId}.${deliveries}`),
    fireAt: new Date(now + delayMs).toISOString(),
    msg,
    headers: { [FAILURES]: String(failedBefore(js)), [DELIVERIES]: String(deliveries) },
  };
  await res.timers.put(res.names.timerKey(partition, token, exec, name), encodeJson(entry));
  js.term();
}
