import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import { createInbox, headers as natsHeaders } from '@nats-io/transport-node';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';

/** Default wait for a reply (the JetStream client's default). */
const REQUEST_TIMEOUT_MS = 5_000;
/** How often requests past their deadline are failed. */
const SWEEP_MS = 250;

interface Pending {
  readonly resolve: (msg: Msg) => void;
  readonly reject: (err: unknown) => void;
  readonly deadline: number;
  readonly what: string;
}

/** A JetStream API error reply: `code` is the API error code (10071: wrong last sequence). */
export class JetStreamReplyError extends Error {
  constructor(readonly code: number, readonly status: number, description: string) {
    super(description);
    this.name = 'JetStreamReplyError';
  }
}

/** What a publish to a stream answers. */
export interface PublishAck {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

/** A message read by a direct get. */
export interface DirectMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
}

/**
 * Request/reply for the hot path's JetStream calls (publishes with their
 * checks, direct gets) over one reply subscription of this process: no timer
 * per request (one sweep fails late ones), and no error object on success,
 * which the client library's own request path builds for every reply. The
 * wire protocol is the JetStream API's; only the bookkeeping differs.
 *
 * Sends are corked per event-loop turn: requests and acks issued while one
 * batch of deliveries is handled go out together after it (one socket write
 * instead of one per chain of awaits).
 */
export class RequestMux {
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  private corked: (() => void)[] = [];
  private flushScheduled = false;

  constructor(private readonly nc: NatsConnection) {
    this.prefix = `${createInbox()}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, {
      callback: (_err, msg) => {
        if (!msg) return;
        const p = this.pending.get(msg.subject.slice(this.prefix.length));
        if (!p) return;
        this.pending.delete(msg.subject.slice(this.prefix.length));
        p.resolve(msg);
      },
    });
  }

  /** Sends `data` to `subject` and resolves with the reply (rejects on timeout or close). */
  request(subject: string, data: Uint8Array, hdrs: MsgHdrs | undefined, what: string):
    Promise<Msg> {
    if (this.closed) {
      return Promise.reject(new DurableTaskError(ErrorCode.BACKEND_ERROR,
        `${what}: the connection is closed.`));
    }
    const token = (this.next++).toString(36);
    const reply = this.prefix + token;
    const promise = new Promise<Msg>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, deadline: Date.now() + REQUEST_TIMEOUT_MS,
        what });
    });
    this.defer(() => {
      try {
        this.nc.publish(subject, data, hdrs ? { reply, headers: hdrs } : { reply });
      } catch (err) {
        const p = this.pending.get(token);
        this.pending.delete(token);
        p?.reject(err);
      }
    });
    this.sweeper ??= this.startSweep();
    return promise;
  }

  /**
   * Runs `send` (a publish or an ack) with the other sends of this event-loop
   * turn, once the turn's callbacks are done; sends keep their order.
   */
  defer(send: () => void): void {
    this.corked.push(send);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.uncork());
  }

  private uncork(): void {
    this.flushScheduled = false;
    const sends = this.corked;
    this.corked = [];
    for (const send of sends) {
      try {
        send();
      } catch {
        // A send on a closing connection: its request times out or is rejected at close.
      }
    }
  }

  private startSweep(): NodeJS.Timeout {
    const timer = setInterval(() => {
      if (this.pending.size === 0) {
        clearInterval(timer);
        this.sweeper = undefined;
        return;
      }
      const now = Date.now();
      for (const [token, p] of this.pending) {
        if (p.deadline <= now) {
          this.pending.delete(token);
          p.reject(new DurableTaskError(ErrorCode.BACKEND_ERROR,
            `${p.what}: no reply within ${REQUEST_TIMEOUT_MS} ms.`));
        }
      }
    }, SWEEP_MS);
    timer.unref();
    return timer;
  }

  /**
   * Publishes to a stream and resolves with its acknowledgement. `msgID`
   * dedupes within the stream's window; `expectLastSubjectSequence` is the
   * per-subject compare-and-set (a loser gets JetStreamReplyError 10071).
   */
  async publish(subject: string, data: Uint8Array,
    opts: { msgID?: string; expectLastSubjectSequence?: number } = {}): Promise<PublishAck> {
    let hdrs: MsgHdrs | undefined;
    if (opts.msgID !== undefined || opts.expectLastSubjectSequence !== undefined) {
      hdrs = natsHeaders();
      if (opts.msgID !== undefined) hdrs.set('Nats-Msg-Id', opts.msgID);
      if (opts.expectLastSubjectSequence !== undefined) {
        hdrs.set('Nats-Expected-Last-Subject-Sequence', String(opts.expectLastSubjectSequence));
      }
    }
    const msg = await this.request(subject, data, hdrs, `Publishing to ${subject}`);
    noResponders(msg, subject);
    const ack = JSON.parse(msg.string()) as {
      stream?: string; seq?: number; duplicate?: boolean;
      error?: { code: number; err_code?: number; description?: string };
    };
    if (ack.error) {
      throw new JetStreamReplyError(ack.error.err_code ?? 0, ack.error.code,
        ack.error.description ?? `publish to ${subject} failed`);
    }
    if (typeof ack.seq !== 'number' || !ack.stream) {
      throw new DurableTaskError(ErrorCode.BACKEND_ERROR,
        `Publishing to ${subject}: the reply is no stream acknowledgement.`);
    }
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true };
  }

  /**
   * Direct get from a stream with `allow_direct`: the last message of a
   * subject, or the first at or after `seq` on a subject (wildcards allowed).
   * Resolves null when there is none.
   */
  async directGet(stream: string,
    query: { last_by_subj: string } | { seq: number; next_by_subj: string }):
    Promise<DirectMessage | null> {
    const subject = `$JS.API.DIRECT.GET.${stream}`;
    const msg = await this.request(subject, Buffer.from(JSON.stringify(query), 'utf8'), undefined,
      `Reading from ${stream}`);
    noResponders(msg, stream);
    const h = msg.headers;
    if (h && h.code !== 0 && h.code >= 400) {
      if (h.code === 404) return null;
      throw new JetStreamReplyError(0, h.code, `direct get from ${stream}: ${h.description}`);
    }
    const seq = Number(h?.get('Nats-Sequence'));
    if (!h || !Number.isFinite(seq) || seq <= 0) {
      throw new DurableTaskError(ErrorCode.BACKEND_ERROR,
        `Reading from ${stream}: the reply carries no stream sequence.`);
    }
    return { seq, subject: h.get('Nats-Subject'), data: msg.data, headers: h };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.uncork();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sub.unsubscribe();
    for (const p of this.pending.values()) {
      p.reject(new DurableTaskError(ErrorCode.BACKEND_ERROR, `${p.what}: the backend closed.`));
    }
    this.pending.clear();
  }
}

function noResponders(msg: Msg, what: string): void {
  if (msg.headers?.code === 503) {
    throw new DurableTaskError(ErrorCode.BACKEND_ERROR,
      `${what}: no JetStream responder (is JetStream enabled, does the stream exist?).`);
  }
}

const muxes = new WeakMap<object, RequestMux>();

/** The request mux of a hub's resources (made on first use, closed with `closeRequestMux`). */
export function requestMux(res: { readonly nc: NatsConnection }): RequestMux {
  let mux = muxes.get(res);
  if (!mux) {
    mux = new RequestMux(res.nc);
    muxes.set(res, mux);
  }
  return mux;
}

export function closeRequestMux(res: object): void {
  muxes.get(res)?.close();
  muxes.delete(res);
}
