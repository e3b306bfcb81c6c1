import type { ExecutionStartedEvent } from '../core/history-event.ts';
import type { OrchestrationCompletion } from '../core/work-item.ts';
import type { TaskMessage } from '../core/task-message.ts';
import type { InstanceStore } from './instance-store.ts';
import { isWrongLastSequence } from './nats-errors.ts';
import { pendingRecord } from './pending-record.ts';
import { encodeInstanceId, type HubNames } from './names.ts';
import type { HubResources } from './hub-resources.ts';
import { encodeOutboxMessage } from './commit-encoding.ts';
import { requestMux } from './request-mux.ts';
import {
  encodeJson, toWireMessage, type OutboxEntry, type TimerEntry, type WireTaskMessage,
} from './wire.ts';

/** The instance whose checkpoint produces the outbox. */
export interface OutboxSource {
  readonly instanceId: string;
  readonly token: string;
  readonly partition: number;
  readonly executionId: string;
  /** Revision the checkpoint was loaded at; makes ids of unnamed messages unique. */
  readonly revision: number;
}

function route(names: HubNames, instanceId: string): { token: string; partition: number } {
  return { token: encodeInstanceId(instanceId), partition: names.partitionOf(instanceId) };
}

/**
 * Turns a completion's messages into outbox entries with deterministic ids
 * (design 9.10), so that a resend by the relay is dropped by the stream.
 * Timers already due become plain publishes.
 */
export function buildOutbox(
  names: HubNames,
  source: OutboxSource,
  completion: OrchestrationCompletion,
  now: number,
): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  for (const m of completion.activityMessages) {
    const owner = m.orchestrationInstance;
    const r = route(names, owner.instanceId);
    const exec = owner.executionId ?? source.executionId;
    out.push({ k: 'msg', subject: names.actSubject(r.partition, r.token),
      id: names.outboxMessageId(r.token, exec, 'act', m.event.eventId), msg: toWireMessage(m) });
  }
  completion.orchestratorMessages.forEach((m, i) => {
    const r = route(names, m.orchestrationInstance.instanceId);
    out.push({ k: 'msg', subject: names.orchSubject(r.partition, r.token),
      id: orchestratorMessageId(names, source, m, r.token, i), msg: toWireMessage(m) });
  });
  const continued = completion.continuedAsNewMessage;
  if (continued) {
    out.push({ k: 'msg', subject: names.orchSubject(source.partition, source.token),
      id: orchestratorMessageId(names, source, continued, source.token, -1),
      msg: toWireMessage(continued) });
  }
  for (const m of completion.timerMessages) {
    const e = m.event;
    const timerId = e.type === 'TimerFired' ? e.timerId : e.eventId;
    const fireAt = e.type === 'TimerFired' ? e.fireAt : new Date(now).toISOString();
    const exec = m.orchestrationInstance.executionId ?? source.executionId;
    // Synthetic timers (negative ids) repeat within an execution: add the revision.
    const name = timerId >= 0 ? `t${timerId}` : `t${timerId}_${source.revision}`;
    const id = names.outboxMessageId(source.token, exec, 'timer', name);
    const subject = names.orchSubject(source.partition, source.token);
    if (Date.parse(fireAt) <= now) {
      out.push({ k: 'msg', subject, id, msg: toWireMessage(m) });
    } else {
      out.push({ k: 'timer', key: names.timerKey(source.partition, source.token, exec, name),
        subject, id, fireAt, msg: toWireMessage(m) });
    }
  }
  return out;
}

function orchestratorMessageId(names: HubNames, source: OutboxSource, m: TaskMessage,
  targetToken: string, index: number): string {
  const e = m.event;
  if (e.type === 'ExecutionStarted') {
    return names.startMessageId(targetToken, e.orchestrationInstance.executionId);
  }
  if (e.type === 'SubOrchestrationInstanceCompleted' ||
    e.type === 'SubOrchestrationInstanceFailed') {
    return names.outboxMessageId(source.token, source.executionId, 'done', e.taskScheduledId);
  }
  return names.outboxMessageId(source.token, source.executionId, 'msg',
    `${source.revision}.${index}`);
}

/** Who sent an outbox, for the Pending records of the sub-orchestrations it starts. */
export interface OutboxSender {
  readonly store: InstanceStore;
  readonly instanceId: string;
}

/**
 * Sends outbox entries: publishes with their ids (all in flight together) and
 * writes future timers to the timer index. A sub-orchestration's start goes
 * out after a Pending record for a new child id is created, so the child can
 * be read, awaited and terminated by id before its first episode (an existing
 * record is left alone: whether the start re-creates that instance is decided
 * when it is locked). Resolves when every one is stored.
 */
export async function sendOutbox(res: HubResources, entries: readonly OutboxEntry[],
  now: number, sender: OutboxSender): Promise<void> {
  if (entries.length === 0) return;
  const pending: Promise<unknown>[] = [];
  const mux = requestMux(res);
  for (const e of entries) {
    if (e.k === 'msg' || Date.parse(e.fireAt) <= now) {
      const publish = () => mux.publish(e.subject, encodeOutboxMessage(e), { msgID: e.id });
      const child = e.k === 'msg' ? childStart(e.msg, sender.instanceId) : undefined;
      pending.push(child ? createChildRecord(sender.store, child, now).then(publish) : publish());
    } else {
      const timer: TimerEntry = { subject: e.subject, id: e.id, fireAt: e.fireAt, msg: e.msg };
      pending.push(res.timers.put(e.key, encodeJson(timer)));
    }
  }
  await Promise.all(pending);
}

/** The start event of a sub-orchestration `msg` carries (not a continue-as-new of the sender). */
function childStart(msg: WireTaskMessage, senderId: string): ExecutionStartedEvent | undefined {
  const e = msg.event;
  if (e.type !== 'ExecutionStarted' || e.parentInstance === undefined) return undefined;
  return e.orchestrationInstance.instanceId === senderId ? undefined : e;
}

async function createChildRecord(store: InstanceStore, start: ExecutionStartedEvent,
  now: number): Promise<void> {
  try {
    await store.create(encodeInstanceId(start.orchestrationInstance.instanceId),
      pendingRecord(start, now));
  } catch (err) {
    if (!isWrongLastSequence(err)) throw err;
  }
}
