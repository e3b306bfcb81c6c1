import type { CommitBody, OutboxEntry } from './wire.ts';

/** JSON texts made while encoding a commit, reused by the sends that follow it. */
interface CommitTexts {
  readonly state: string;
}

const commitTexts = new WeakMap<CommitBody, CommitTexts>();
const entryTexts = new WeakMap<OutboxEntry, string>();

/**
 * Encodes a commit body as JSON (the same document `JSON.stringify` makes,
 * keys in another order), keeping the texts of its status snapshot and of
 * each outbox message: the outbox publishes and the instance record then
 * reuse them instead of serializing the same values again.
 */
export function encodeCommit(body: CommitBody): Uint8Array {
  const { state, outbox, ...rest } = body;
  const stateText = JSON.stringify(state);
  commitTexts.set(body, { state: stateText });
  const entries = outbox.map((e) => {
    const { msg, ...meta } = e;
    const msgText = JSON.stringify(msg);
    entryTexts.set(e, msgText);
    return `${JSON.stringify(meta).slice(0, -1)},"msg":${msgText}}`;
  });
  const head = JSON.stringify(rest).slice(0, -1);
  const sep = head.length > 1 ? ',' : '';
  return Buffer.from(`${head}${sep}"state":${stateText},"outbox":[${entries.join(',')}]}`, 'utf8');
}

/** The bytes of an outbox entry's message (its text from the commit when there is one). */
export function encodeOutboxMessage(e: OutboxEntry): Uint8Array {
  return Buffer.from(entryTexts.get(e) ?? JSON.stringify(e.msg), 'utf8');
}

/** The bytes of the instance record a commit implies: its snapshot plus `commitSeq`. */
export function encodeCommitRecord(body: CommitBody, commitSeq: number): Uint8Array {
  const text = commitTexts.get(body)?.state ?? JSON.stringify(body.state);
  return Buffer.from(`${text.slice(0, -1)},"commitSeq":${commitSeq}}`, 'utf8');
}
