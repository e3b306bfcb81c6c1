import type { ObjectStore } from '@nats-io/obj';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { HistoryEvent } from '../core/history-event.ts';
import type { StoredOrchestrationState } from '../core/orchestration-state.ts';
import { encodeInstanceId } from './names.ts';
import type { WireTaskMessage } from './wire.ts';

/** Payload strings that start with this mark are references into the object store. */
const REF_MARK = '\u0000dt-blob:';
const PAYLOAD_FIELDS = ['input', 'result', 'data', 'details', 'output', 'customStatus'] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let blobCounter = 0;

/**
 * A unique object name; with an owner (instance token) `o.<owner>.<kind>.<unique>`,
 * so purging the instance finds it (`deleteOwned`).
 */
export function newBlobName(kind: string, owner?: string): string {
  blobCounter = (blobCounter + 1) % 1_000_000;
  const unique = `${Date.now().toString(36)}.${process.pid.toString(36)}.` +
    `${Math.random().toString(36).slice(2, 10)}${blobCounter.toString(36)}`;
  return owner === undefined ? `${kind}.${unique}` : ownedBlobName(owner, kind, unique);
}

/** The object name of a blob that belongs to the instance with token `owner`. */
export function ownedBlobName(owner: string, kind: string, unique: string): string {
  return `o.${owner}.${kind}.${unique}`;
}

/** The token of the instance a message or record is for, when it names one. */
function ownerOf(obj: object): string | undefined {
  const id = (obj as { orchestrationInstance?: { instanceId?: unknown } }).orchestrationInstance
    ?.instanceId;
  return typeof id === 'string' && id.length > 0 ? encodeInstanceId(id) : undefined;
}

export function isPayloadRef(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(REF_MARK);
}

/**
 * Moves large payloads (JSON text fields of events, messages and records) to
 * the object store and back. A payload above the limit is replaced by a
 * reference string that no JSON text can be (it starts with NUL).
 */
export class PayloadStore {
  constructor(
    private readonly store: () => Promise<ObjectStore>,
    readonly limitBytes: number,
  ) {}

  /** True when some payload field of the object could exceed the limit. */
  mayNeedExternalizing(obj: object): boolean {
    const rec = obj as Record<string, unknown>;
    for (const f of PAYLOAD_FIELDS) {
      const v = rec[f];
      // A UTF-16 string of n units has at most 3n UTF-8 bytes.
      if (typeof v === 'string' && v.length * 3 > this.limitBytes) return true;
    }
    return false;
  }

  /** Returns a copy of `obj` with oversized payload fields externalized. */
  async externalize<T extends object>(obj: T, owner: string | undefined = ownerOf(obj)):
    Promise<T> {
    if (!this.mayNeedExternalizing(obj)) return obj;
    const copy: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
    for (const f of PAYLOAD_FIELDS) {
      const v = copy[f];
      if (typeof v !== 'string' || isPayloadRef(v)) continue;
      const bytes = encoder.encode(v);
      if (bytes.length <= this.limitBytes) continue;
      const name = newBlobName('p', owner);
      await this.putBlob(name, bytes);
      copy[f] = `${REF_MARK}${name}`;
    }
    return copy as T;
  }

  async externalizeMessage(msg: WireTaskMessage): Promise<WireTaskMessage> {
    if (!this.mayNeedExternalizing(msg.event)) return msg;
    return { ...msg, event: await this.externalize(msg.event, ownerOf(msg)) };
  }

  /** True when some payload field of the object is a reference. */
  hasRefs(obj: object): boolean {
    const rec = obj as Record<string, unknown>;
    return PAYLOAD_FIELDS.some((f) => isPayloadRef(rec[f]));
  }

  /** A message with its event's payload references resolved (the same object when none). */
  async resolveMessage<M extends { readonly event: object }>(msg: M): Promise<M> {
    if (!this.hasRefs(msg.event)) return msg;
    return { ...msg, event: await this.resolve(msg.event) };
  }

  async resolve<T extends object>(obj: T): Promise<T> {
    const rec = obj as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const f of PAYLOAD_FIELDS) {
      const v = rec[f];
      if (!isPayloadRef(v)) continue;
      copy ??= { ...rec };
      copy[f] = decoder.decode(await this.getBlob(v.slice(REF_MARK.length)));
    }
    return (copy ?? obj) as T;
  }

  async resolveEvents(events: readonly HistoryEvent[]): Promise<HistoryEvent[]> {
    const out: HistoryEvent[] = [];
    for (const e of events) out.push(await this.resolve(e));
    return out;
  }

  resolveState(state: StoredOrchestrationState): Promise<StoredOrchestrationState> {
    return this.resolve(state);
  }

  /** Deletes every blob of the instance with token `owner` (purge); returns how many. */
  async deleteOwned(owner: string): Promise<number> {
    const store = await this.store();
    // Nothing was ever stored (the common case): no listing.
    if ((await store.status()).size === 0) return 0;
    const prefix = `o.${owner}.`;
    const mine = (await store.list()).filter((i) => !i.deleted && i.name.startsWith(prefix));
    await Promise.all(mine.map((i) => store.delete(i.name)));
    return mine.length;
  }

  async putBlob(name: string, bytes: Uint8Array): Promise<void> {
    const store = await this.store();
    await store.putBlob({ name }, bytes);
  }

  async getBlob(name: string): Promise<Uint8Array> {
    const store = await this.store();
    const data = await store.getBlob(name);
    if (!data) {
      throw new DurableTaskError(ErrorCode.CORRUPT_HISTORY,
        `The stored payload '${name}' is missing from the object store.`);
    }
    return data;
  }
}
