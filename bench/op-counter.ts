import type { NatsConnection } from '@nats-io/transport-node';

/** Counts of protocol operations by class, e.g. `pub:hist`, `kv:INSTANCES`, `ack+confirm`. */
export type OpCounts = Record<string, number>;

interface ProtocolLike {
  publish(subject: string, payload?: Uint8Array, options?: { reply?: string }): void;
  processMsg(msg: { subject: Uint8Array }, data: Uint8Array): void;
  transport: { send(frame: Uint8Array): void };
}

const decoder = new TextDecoder();

/**
 * Wraps the client's protocol handler to classify every outgoing PUB (and
 * every incoming MSG) of one connection. Class names drop the hub prefix:
 * `pub:orch` (a publish to the orchestration stream), `kv:INSTANCES` (a KV
 * write), `get:HIST` (a direct get), `pull:ORCH` (a pull request), `ack`,
 * `ack+confirm` (ackAck), `wpi`, `nak`, `api:CONSUMER.INFO`; incoming:
 * `in:deliver:orch`, `in:kv-watch:INSTANCES`, `in:reply`; and `socket-write`, the writes
 * the client made to its socket (each flush of its outbound buffer).
 */
export class OpCounter {
  readonly out: OpCounts = {};
  readonly in: OpCounts = {};
  /** Counting is on only while measuring operations, so timed runs pay one branch per op. */
  enabled = false;
  private installed = false;

  private restore: (() => void) | undefined;

  /** Takes the wrappers off again: timed runs then use the client's own methods. */
  uninstall(): void {
    this.restore?.();
    this.restore = undefined;
    this.installed = false;
  }

  install(nc: NatsConnection): void {
    if (this.installed) return;
    const proto = (nc as unknown as { protocol: ProtocolLike }).protocol;
    const own = { publish: proto.publish, processMsg: proto.processMsg };
    const publish = proto.publish.bind(proto);
    const processMsg = proto.processMsg.bind(proto);
    proto.publish = (subject, payload, options) => {
      if (this.enabled) {
        this.bump(this.out, classifyOut(subject, payload, options?.reply !== undefined));
      }
      publish(subject, payload, options);
    };
    const transport = proto.transport;
    const ownSend = transport.send;
    const send = transport.send.bind(transport);
    transport.send = (frame) => {
      if (this.enabled) this.bump(this.out, 'socket-write');
      send(frame);
    };
    proto.processMsg = (msg, data) => {
      if (this.enabled) this.bump(this.in, classifyIn(decoder.decode(msg.subject)));
      processMsg(msg, data);
    };
    this.restore = () => {
      proto.publish = own.publish;
      proto.processMsg = own.processMsg;
      transport.send = ownSend;
    };
    this.installed = true;
  }

  private bump(into: OpCounts, key: string): void {
    into[key] = (into[key] ?? 0) + 1;
  }

  /** A copy of the counters, for differences between two moments. */
  snapshot(): { out: OpCounts; in: OpCounts } {
    return { out: { ...this.out }, in: { ...this.in } };
  }
}

/** `after - before`, divided by `per` (instances), zero entries left out, sorted by count. */
export function perInstance(before: OpCounts, after: OpCounts, per: number): OpCounts {
  const out: [string, number][] = [];
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out.push([k, Math.round((d / per) * 100) / 100]);
  }
  out.sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(out);
}

export function total(counts: OpCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Strips `DT_<hub>_` from a stream or bucket name. */
function shortStream(name: string): string {
  const m = /^(?:KV_|OBJ_)?DT_[A-Za-z0-9_-]+?_([A-Z]+)$/.exec(name);
  return m ? m[1] as string : name;
}

function classifyOut(subject: string, payload: Uint8Array | undefined, request: boolean): string {
  if (subject.startsWith('$JS.ACK.')) {
    const head = payload && payload.length > 0 ? decoder.decode(payload.subarray(0, 4)) : '+ACK';
    if (head === '+ACK') return request ? 'ack+confirm' : 'ack';
    if (head === '+WPI') return 'wpi';
    if (head === '-NAK') return 'nak';
    if (head === '+TER') return 'term';
    return `ack:${head}`;
  }
  if (subject.startsWith('$JS.API.DIRECT.GET.')) {
    return `get:${shortStream(subject.slice('$JS.API.DIRECT.GET.'.length).split('.')[0] ?? '')}`;
  }
  if (subject.startsWith('$JS.API.CONSUMER.MSG.NEXT.')) {
    const stream = subject.slice('$JS.API.CONSUMER.MSG.NEXT.'.length).split('.')[0] ?? '';
    return `pull:${shortStream(stream)}`;
  }
  if (subject.startsWith('$JS.API.')) {
    const parts = subject.slice('$JS.API.'.length).split('.');
    return `api:${parts.slice(0, 2).join('.')}`;
  }
  if (subject.startsWith('$KV.')) {
    return `kv:${shortStream(subject.split('.')[1] ?? '')}`;
  }
  if (subject.startsWith('$O.')) return 'obj';
  if (subject.startsWith('dt.')) {
    const kind = subject.split('.')[2] ?? '?';
    return `pub:${kind}`;
  }
  return subject.startsWith('_INBOX') ? 'reply' : 'other';
}

function classifyIn(subject: string): string {
  if (subject.startsWith('_INBOX')) return 'in:reply';
  if (subject.startsWith('$KV.')) return `in:kv-watch:${shortStream(subject.split('.')[1] ?? '')}`;
  if (subject.startsWith('dt.')) return `in:deliver:${subject.split('.')[2] ?? '?'}`;
  return 'in:other';
}
