import type { JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

const ACK = Uint8Array.of(43, 65, 67, 75); // +ACK
const NAK = Uint8Array.of(45, 78, 65, 75); // -NAK
const WPI = Uint8Array.of(43, 87, 80, 73); // +WPI
const TERM = Uint8Array.of(43, 84, 69, 82, 77); // +TERM
const encoder = new TextEncoder();

/**
 * What a held message needs to settle it: its ack subject. A delivered
 * message's bytes are a view into the connection's read buffer; holding the
 * whole message would keep that buffer alive while the message waits, so a
 * held message keeps this handle and its decoded form only. The payloads are
 * the JetStream ack protocol's (the client's own acks send the same).
 */
export class AckHandle {
  private settled = false;

  constructor(
    private readonly nc: NatsConnection,
    readonly reply: string,
    /** Delivery facts of the message (as `JsMsg.info` has them). */
    readonly info: { readonly deliveryCount: number; readonly streamSequence: number },
  ) {}

  static of(nc: NatsConnection, js: JsMsg): AckHandle {
    // The delivered message's ack subject (a string copy, not a view of the read buffer).
    const reply = (js as unknown as { readonly reply: string }).reply;
    return new AckHandle(nc, reply, { deliveryCount: js.info.deliveryCount,
      streamSequence: js.seq });
  }

  ack(): void {
    this.send(ACK, true);
  }

  /** Redelivers at once, or after `delayMs`. */
  nak(delayMs?: number): void {
    this.send(delayMs ? encoder.encode(`-NAK {"delay":${Math.round(delayMs * 1e6)}}`) : NAK,
      true);
  }

  /** In progress: restarts the ack wait. */
  working(): void {
    this.send(WPI, false);
  }

  term(): void {
    this.send(TERM, true);
  }

  private send(payload: Uint8Array, final: boolean): void {
    if (this.settled || !this.reply) return;
    if (final) this.settled = true;
    try {
      this.nc.publish(this.reply, payload);
    } catch {
      // A closed connection: the server redelivers after the ack wait.
    }
  }
}
