/**
 * State of a backend's connection to its server: `connected`; `reconnecting`
 * while the server is out of reach (the backend keeps trying, and calls fail
 * with BACKEND_ERROR meanwhile); `closed` once the backend or its connection
 * was closed for good.
 */
export type ConnectionState = 'connected' | 'reconnecting' | 'closed';

/** The connection of a backend that has one, as a worker or a tool can watch it. */
export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** Calls `listener` on each change of state; returns a function that stops it. */
  onChange(listener: (state: ConnectionState) => void): () => void;
}
