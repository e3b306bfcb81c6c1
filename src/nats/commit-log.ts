import type { StoredMsg } from '@nats-io/jetstream';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { HistoryEvent } from '../core/history-event.ts';
import type { StoredOrchestrationState } from '../core/orchestration-state.ts';
import type { HubResources } from './hub-resources.ts';
import { ownedBlobName } from './payload-store.ts';
import { encodeCommit } from './commit-encoding.ts';
import { requestMux, type DirectMessage } from './request-mux.ts';
import {
  decodeJson, encodeJson, isCommitStub, type CommitBody, type CommitMessage,
} from './wire.ts';

/** The current execution of an instance as stored in the commit log. */
export interface LoadedInstance {
  /** Stream sequence of the last commit; 0 when the instance has none. */
  readonly revision: number;
  readonly executionId: string | null;
  /** Sequence of the current execution's first commit. */
  readonly execStart: number | null;
  readonly events: HistoryEvent[];
  readonly state: StoredOrchestrationState | null;
  /** Orchestration-stream sequences the last commit consumed. */
  readonly applied: readonly number[];
}

export const EMPTY_INSTANCE: LoadedInstance = {
  revision: 0, executionId: null, execStart: null, events: [], state: null, applied: [],
};

/** Upper bound on commits read for one history (a safety net for the read loops). */
const MAX_COMMITS_READ = 1_000_000;

/**
 * The commit log (`DT_H_HIST`): one message per checkpoint on
 * `dt.H.hist.<p>.<token>`. Reads use direct get, so any process can load.
 */
export class CommitLog {
  constructor(private readonly res: HubResources) {}

  subject(partition: number, token: string): string {
    return this.res.names.histSubject(partition, token);
  }

  async readLast(partition: number, token: string): Promise<{ seq: number; body: CommitBody } |
    null> {
    const sm = await requestMux(this.res).directGet(this.res.names.histStream,
      { last_by_subj: this.subject(partition, token) });
    if (!sm) return null;
    return { seq: sm.seq, body: await this.decode(sm) };
  }

  /** Decodes a stored commit, fetching a body that lives in the object store. */
  async decode(sm: StoredMsg | DirectMessage | { seq: number; data: Uint8Array }):
    Promise<CommitBody> {
    return this.decodeData(sm.data, sm.seq);
  }

  async decodeData(data: Uint8Array, seq: number): Promise<CommitBody> {
    const msg = decodeJson<CommitMessage>(data, `commit ${seq}`);
    if (!isCommitStub(msg)) return msg;
    const body = decodeJson<CommitBody>(await this.res.payloads.getBlob(msg.ref), `commit ${seq}`);
    return body;
  }

  /**
   * Loads the current execution: the last commit, then (when it is not the
   * first of its execution) every commit from the execution's first one.
   */
  async loadCurrent(partition: number, token: string): Promise<LoadedInstance> {
    const last = await this.readLast(partition, token);
    if (!last) return EMPTY_INSTANCE;
    const { body } = last;
    let events: HistoryEvent[];
    if (body.execStart === undefined) {
      events = body.events;
    } else {
      events = [];
      await this.forEachCommit(partition, token, body.execStart, last.seq, (seq, c) => {
        if (seq === last.seq) events.push(...body.events);
        else if (c.executionId === body.executionId) events.push(...c.events);
      });
    }
    return {
      revision: last.seq,
      executionId: body.executionId,
      execStart: body.execStart ?? last.seq,
      events: await this.res.payloads.resolveEvents(events),
      state: body.state,
      applied: body.applied,
    };
  }

  /** History of one execution (the current one when absent), payloads resolved. */
  async readHistory(partition: number, token: string, executionId?: string):
    Promise<HistoryEvent[] | null> {
    const last = await this.readLast(partition, token);
    if (!last) return null;
    if (executionId === undefined || executionId === last.body.executionId) {
      const current = await this.loadCurrent(partition, token);
      return current.events;
    }
    const events: HistoryEvent[] = [];
    let found = false;
    await this.forEachCommit(partition, token, 1, last.seq, (_seq, c) => {
      if (c.executionId === executionId) {
        found = true;
        events.push(...c.events);
      } else if (c.prev?.executionId === executionId) {
        found = true;
        events.push(...c.prev.events);
      }
    });
    return found ? this.res.payloads.resolveEvents(events) : null;
  }

  /** Calls `visit` for each commit of the subject with `from <= seq <= to`, in order. */
  async forEachCommit(partition: number, token: string, from: number, to: number,
    visit: (seq: number, body: CommitBody) => void): Promise<void> {
    const subject = this.subject(partition, token);
    let seq = from;
    for (let i = 0; i < MAX_COMMITS_READ && seq <= to; i++) {
      const sm = await requestMux(this.res).directGet(this.res.names.histStream,
        { seq, next_by_subj: subject });
      if (!sm || sm.seq > to) return;
      visit(sm.seq, await this.decode(sm));
      seq = sm.seq + 1;
    }
  }

  /**
   * The sequence of the instance's commit made by attempt `attemptId` (its
   * message id), looking from sequence `from`; null when there is none.
   */
  async findAttempt(partition: number, token: string, from: number, attemptId: string):
    Promise<number | null> {
    const subject = this.subject(partition, token);
    let seq = from;
    // Bounded: an instance gets few commits while one of its publishes is unanswered.
    for (let i = 0; i < 1_000; i++) {
      const sm = await requestMux(this.res).directGet(this.res.names.histStream,
        { seq, next_by_subj: subject });
      if (!sm) return null;
      if (sm.headers?.get('Nats-Msg-Id') === attemptId) return sm.seq;
      seq = sm.seq + 1;
    }
    return null;
  }

  /**
   * Publishes a commit with the revision check; throws SESSION_ABORTED when
   * another commit landed first. Retries a lost PubAck with the same attempt
   * id, which the stream reports as a duplicate of the stored one.
   */
  async publish(partition: number, token: string, body: CommitBody, expectedRevision: number,
    attemptId: string): Promise<number> {
    let data = encodeCommit(body);
    if (data.length > this.res.inlineCommitLimit) {
      const ref = ownedBlobName(token, 'c', attemptId);
      await this.res.payloads.putBlob(ref, data);
      data = encodeJson({ v: 1, ref, instanceId: body.instanceId, executionId: body.executionId,
        ...(body.execStart !== undefined ? { execStart: body.execStart } : {}) });
    }
    const subject = this.subject(partition, token);
    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const ack = await requestMux(this.res).publish(subject, data, {
          msgID: attemptId, expectLastSubjectSequence: expectedRevision,
        });
        return ack.seq;
      } catch (err) {
        if (isCasFailure(err)) {
          throw new DurableTaskError(ErrorCode.SESSION_ABORTED,
            `Checkpoint of instance '${body.instanceId}' lost the revision check ` +
            `(loaded revision ${expectedRevision}): another holder committed first.`,
            { cause: err });
        }
        lastErr = err;
      }
    }
    throw new DurableTaskError(ErrorCode.BACKEND_ERROR,
      `Checkpoint of instance '${body.instanceId}' could not be published: ` +
      `${(lastErr as Error)?.message ?? String(lastErr)}`, { cause: lastErr });
  }
}

function isCasFailure(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 10071 || /wrong last sequence/i.test((err as Error)?.message ?? '');
}
