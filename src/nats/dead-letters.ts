import type { MsgRequest } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { DeadLetter, DeadLetterQuery } from '../core/dead-letter.ts';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { HubResources } from './hub-resources.ts';
import { decodeInstanceId, encodeInstanceId } from './names.ts';
import { decodeTaskMessage } from './wire.ts';

/** Which queue a dead letter came from, as named in its subject. */
export type DeadKind = 'orch' | 'act';

/** Why and after how many failed deliveries a message was given up. */
export interface DeadLetterFacts {
  readonly reason: string;
  /** Stream sequence of the message in its queue (dedupes a repeated copy). */
  readonly seq: number;
  readonly deliveries: number;
}

const REASON = 'Dt-Dead-Reason';
const SEQ = 'Dt-Dead-Seq';
const DELIVERIES = 'Dt-Dead-Deliveries';
const DEFAULT_LIMIT = 100;
/** Upper bound on stream reads of one listing (a safety net for the read loop). */
const MAX_READS = 100_000;

/**
 * Copies a message to `DT_H_DEAD` (`dt.H.dead.<kind>.<p>.<token>`) with the
 * reason in headers. The id names the queue and sequence, so a copy made
 * again after a crash is dropped by the stream.
 */
export async function publishDeadLetter(res: HubResources, kind: DeadKind, partition: number,
  token: string, data: Uint8Array, facts: DeadLetterFacts): Promise<void> {
  const h = natsHeaders();
  h.set(REASON, facts.reason);
  h.set(SEQ, String(facts.seq));
  h.set(DELIVERIES, String(facts.deliveries));
  await res.js.publish(res.names.deadSubject(kind, partition, token), data,
    { headers: h, msgID: `dead.${kind}.${facts.seq}` });
}

/** Dead letters of the hub (or of one instance), oldest first. */
export async function listDeadLetters(res: HubResources, query: DeadLetterQuery = {}):
  Promise<DeadLetter[]> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `The dead-letter limit must be a positive integer, got ${String(query.limit)}.`);
  }
  const { names, jsm } = res;
  const filter = query.instanceId === undefined ? names.deadSubjects
    : `${names.deadSubjects.slice(0, -1)}*.${names.partitionOf(query.instanceId)}.` +
      encodeInstanceId(query.instanceId);
  const out: DeadLetter[] = [];
  let seq = 1;
  for (let i = 0; i < MAX_READS && out.length < limit; i++) {
    // The server answers next_by_subj on STREAM.MSG.GET too (2.9); the client's type omits it.
    const request = { seq, next_by_subj: filter } as unknown as MsgRequest;
    const sm = await jsm.streams.getMessage(names.deadStream, request);
    if (!sm) break;
    const letter = toDeadLetter(sm.subject, sm.data, sm.seq, sm.header, sm.time);
    out.push({ ...letter, message: await res.payloads.resolveMessage(letter.message) });
    seq = sm.seq + 1;
  }
  return out;
}

/** Removes the dead letters of one instance (purge takes every trace). */
export async function purgeDeadLetters(res: HubResources, partition: number, token: string):
  Promise<void> {
  const { names, jsm } = res;
  await Promise.all((['orch', 'act'] as const).map((kind) =>
    jsm.streams.purge(names.deadStream, { filter: names.deadSubject(kind, partition, token) })));
}

function toDeadLetter(subject: string, data: Uint8Array, seq: number,
  h: { get(key: string): string }, time: Date): DeadLetter {
  const parts = subject.split('.');
  const kind = parts[3] === 'act' ? 'activity' : 'orchestration';
  const message = decodeTaskMessage(data, seq);
  const owner = message.orchestrationInstance;
  const instanceId = owner.instanceId || decodeInstanceId(parts[5] ?? '');
  return {
    kind,
    instanceId,
    ...(owner.executionId !== undefined ? { executionId: owner.executionId } : {}),
    eventType: message.event.type,
    deliveries: Number(h.get(DELIVERIES) || 0),
    reason: h.get(REASON) || 'unknown',
    deadLetteredAt: time,
    message: toPlain(message),
  };
}

function toPlain(message: ReturnType<typeof decodeTaskMessage>): DeadLetter['message'] {
  const { sequenceNumber: _seq, ...rest } = message;
  return rest;
}
