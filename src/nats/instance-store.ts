import type { KV } from '@nats-io/kv';
import { isTerminalStatus } from '../core/orchestration-status.ts';
import type { HubNames } from './names.ts';
import { isWrongLastSequence } from './nats-errors.ts';
import type { RequestMux } from './request-mux.ts';
import { decodeJson, encodeJson, type InstanceRecord } from './wire.ts';

/** A record with the KV revision it was read at. */
export interface StoredRecord {
  readonly record: InstanceRecord;
  readonly revision: number;
}

const MAX_CAS_ATTEMPTS = 4;

/**
 * Whether a record written after commit `incoming.commitSeq` may replace the
 * stored one. Rules: never go back within one execution; never let an older
 * execution overwrite a newer one (only the execution a continue-as-new
 * closed, `previousExecutionId`, gives way); a Pending instance terminated by
 * the client stays terminated until a final commit of that execution.
 */
export function mayReplaceRecord(
  existing: InstanceRecord | undefined,
  incoming: InstanceRecord,
  previousExecutionId?: string,
): boolean {
  if (!existing) return true;
  const existingExec = existing.orchestrationInstance.executionId;
  const incomingExec = incoming.orchestrationInstance.executionId;
  if (existingExec === incomingExec) {
    if (existing.commitSeq >= incoming.commitSeq && existing.commitSeq !== 0) return false;
    const pinned = existing.commitSeq === 0 && isTerminalStatus(existing.orchestrationStatus);
    return !pinned || isTerminalStatus(incoming.orchestrationStatus);
  }
  return previousExecutionId !== undefined && existingExec === previousExecutionId;
}

/** The `DT_H_INSTANCES` bucket: latest and per-execution status records. */
export class InstanceStore {
  /** `mux`: reads and writes on the hot path go through it (see request-mux.ts). */
  constructor(private readonly kv: KV, private readonly names: HubNames,
    private readonly mux?: RequestMux) {}

  private subjectOf(key: string): string {
    return `$KV.${this.names.instancesBucket}.${key}`;
  }

  async read(token: string): Promise<StoredRecord | null> {
    return this.readKey(this.names.instanceKey(token));
  }

  async readExecution(token: string, executionId: string): Promise<StoredRecord | null> {
    return this.readKey(this.names.executionKey(token, executionId));
  }

  private async readKey(key: string): Promise<StoredRecord | null> {
    if (this.mux) {
      const sm = await this.mux.directGet(`KV_${this.names.instancesBucket}`,
        { last_by_subj: this.subjectOf(key) });
      const op = sm?.headers?.get('KV-Operation');
      if (!sm || sm.subject !== this.subjectOf(key) || (op && op !== 'PUT') ||
        sm.data.length === 0) return null;
      return { record: decodeJson<InstanceRecord>(sm.data, 'instance record'), revision: sm.seq };
    }
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return null;
    return { record: decodeJson<InstanceRecord>(entry.value, 'instance record'),
      revision: entry.revision };
  }

  /** Create-if-absent: resolves with the revision; rejects (wrong last sequence) when present. */
  create(token: string, record: InstanceRecord): Promise<number> {
    return this.createKey(this.names.instanceKey(token), encodeJson(record));
  }

  update(token: string, record: InstanceRecord, revision: number): Promise<number> {
    return this.updateKey(this.names.instanceKey(token), encodeJson(record), revision);
  }

  private updateKey(key: string, data: Uint8Array, revision: number): Promise<number> {
    if (!this.mux) return this.kv.update(key, data, revision);
    return this.mux.publish(this.subjectOf(key), data, { expectLastSubjectSequence: revision })
      .then((a) => a.seq);
  }

  /** Create-if-absent (a deleted or purged key counts as absent). */
  private async createKey(key: string, data: Uint8Array): Promise<number> {
    if (!this.mux) return this.kv.create(key, data);
    try {
      const ack = await this.mux.publish(this.subjectOf(key), data,
        { expectLastSubjectSequence: 0 });
      return ack.seq;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
    // Present, or a delete marker: the client's create knows how to tell them apart.
    return this.kv.create(key, data);
  }

  /**
   * Writes the latest record after a commit, applying `mayReplaceRecord`, by
   * compare-and-set from `knownRevision` when given (no read on the hot
   * path). Returns the new revision, or undefined when the stored record won.
   */
  async writeLatest(
    token: string,
    record: InstanceRecord,
    options: { knownRevision?: number | undefined; knownRecord?: InstanceRecord | undefined;
      previousExecutionId?: string | undefined;
      /** `record` already encoded (saves serializing it again). */
      data?: Uint8Array | undefined },
  ): Promise<number | undefined> {
    let revision = options.knownRevision;
    let existing = options.knownRecord;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      if (revision === undefined) {
        const stored = await this.read(token);
        revision = stored?.revision ?? 0;
        existing = stored?.record;
      }
      if (!mayReplaceRecord(existing, record, options.previousExecutionId)) return undefined;
      try {
        return revision === 0
          ? await this.createKey(this.names.instanceKey(token), options.data ?? encodeJson(record))
          : await this.updateKey(this.names.instanceKey(token),
            options.data ?? encodeJson(record), revision);
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        revision = undefined;
      }
    }
    return undefined;
  }

  /** Writes a per-execution record unless a newer one of that execution is stored. */
  async writeExecution(token: string, record: InstanceRecord): Promise<void> {
    const key = this.names.executionKey(token, record.orchestrationInstance.executionId);
    // Usually the first record of the execution: try create before reading.
    try {
      await this.createKey(key, encodeJson(record));
      return;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const stored = await this.readKey(key);
      if (stored && !mayReplaceRecord(stored.record, record)) return;
      try {
        if (stored) await this.kv.update(key, encodeJson(record), stored.revision);
        else await this.kv.create(key, encodeJson(record));
        return;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
  }

  /** Every per-execution record of an instance (any order). */
  async listExecutions(token: string): Promise<InstanceRecord[]> {
    const keys = await this.collectKeys(this.names.executionKeysFilter(token));
    const out: InstanceRecord[] = [];
    for (const key of keys) {
      const stored = await this.readKey(key);
      if (stored) out.push(stored.record);
    }
    return out;
  }

  async collectKeys(filter: string): Promise<string[]> {
    const iter = await this.kv.keys(filter);
    const keys: string[] = [];
    for await (const k of iter) keys.push(k);
    return keys;
  }

  /** Removes the latest and every per-execution record of an instance. */
  async purge(token: string): Promise<void> {
    const keys = await this.collectKeys(this.names.executionKeysFilter(token));
    await Promise.all([...keys, this.names.instanceKey(token)].map((k) => this.kv.purge(k)));
  }

  /**
   * Visits every latest record (one per instance), in key order, reading them
   * in bounded parallel batches; stops when `visit` returns false or the
   * deadline passes. Resolves true when every record was visited.
   */
  async scanLatest(
    visit: (record: InstanceRecord, token: string) => boolean | void,
    options: { afterToken?: string; deadline?: number } = {},
  ): Promise<boolean> {
    const keys = (await this.collectKeys('*')).sort();
    const start = options.afterToken === undefined ? 0
      : keys.findIndex((k) => k > (options.afterToken as string));
    if (start < 0) return true;
    const BATCH = 64;
    for (let i = start; i < keys.length; i += BATCH) {
      if (options.deadline !== undefined && Date.now() > options.deadline) return false;
      const slice = keys.slice(i, i + BATCH);
      const records = await Promise.all(slice.map((k) => this.readKey(k)));
      for (let j = 0; j < slice.length; j++) {
        const stored = records[j];
        if (!stored) continue;
        if (visit(stored.record, slice[j] as string) === false) return false;
      }
    }
    return true;
  }
}
