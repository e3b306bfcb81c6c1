import type { NatsConnection } from '@nats-io/transport-node';
import type { ConnectionState, ConnectionStatus } from '../core/connection-status.ts';
import {
  connectionClosed, connectionLost, connectionRestored, connectionRetrying,
  connectionServerError,
} from '../logging/connection-events.ts';
import type { Logger } from '../logging/logger.ts';

/** Log a still-reconnecting line every this many attempts. */
const RETRY_LOG_EVERY = 10;

/**
 * Follows one NATS connection: `reconnecting` from a disconnect until the
 * client is back, `closed` when the connection ends. Logs each change and
 * tells listeners. The watch ends with the connection.
 */
export class ConnectionMonitor implements ConnectionStatus {
  #state: ConnectionState = 'connected';
  #downSince = 0;
  #attempts = 0;
  #closingByBackend = false;
  readonly #listeners = new Set<(state: ConnectionState) => void>();
  readonly #closedListeners = new Set<() => void>();

  constructor(private readonly nc: NatsConnection, private readonly log: Logger) {
    void this.#watch();
    void nc.closed().then((err) => this.#closed(err), (err) => this.#closed(err));
  }

  get state(): ConnectionState {
    return this.#state;
  }

  onChange(listener: (state: ConnectionState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs `fn` once when the connection closes without the backend closing it. */
  onLost(fn: () => void): () => void {
    this.#closedListeners.add(fn);
    return () => this.#closedListeners.delete(fn);
  }

  /** The backend closes: it is done with the connection (whether it closes it or not). */
  closingByBackend(): void {
    this.#closingByBackend = true;
    this.#closed(undefined);
  }

  async #watch(): Promise<void> {
    try {
      // Ends when the connection closes.
      for await (const s of this.nc.status()) {
        if (this.#state === 'closed') break;
        if (s.type === 'disconnect') {
          if (this.#state !== 'connected') continue;
          this.#downSince = Date.now();
          this.#attempts = 0;
          connectionLost(this.log, { server: s.server });
          this.#set('reconnecting');
        } else if (s.type === 'reconnecting') {
          this.#attempts++;
          if (this.#attempts % RETRY_LOG_EVERY === 0) {
            connectionRetrying(this.log, { attempts: this.#attempts,
              downMs: Date.now() - this.#downSince });
          }
        } else if (s.type === 'reconnect') {
          connectionRestored(this.log, { server: s.server,
            downMs: this.#downSince ? Date.now() - this.#downSince : 0 });
          this.#set('connected');
        } else if (s.type === 'error') {
          connectionServerError(this.log, { err: s.error });
        }
      }
    } catch (err) {
      connectionServerError(this.log, { err });
    }
  }

  #closed(err: unknown): void {
    if (this.#state === 'closed') return;
    const byBackend = this.#closingByBackend;
    connectionClosed(this.log, { byBackend, ...(err ? { err } : {}) });
    this.#set('closed');
    if (!byBackend) for (const fn of [...this.#closedListeners]) fn();
    this.#closedListeners.clear();
  }

  #set(state: ConnectionState): void {
    if (this.#state === state || this.#state === 'closed') return;
    this.#state = state;
    for (const fn of [...this.#listeners]) {
      try {
        fn(state);
      } catch {
        // A listener's failure is its own; the others still hear of the change.
      }
    }
  }
}
