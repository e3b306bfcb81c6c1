import type { Logger } from './logger.ts';

/** Log events of a backend's connection to its server (one function per event). */

export function connectionLost(log: Logger, f: { server: string }): void {
  log.warn({ event: 'nats.connection.disconnected', ...f },
    'lost the NATS server; reconnecting until it is back');
}

export function connectionRetrying(log: Logger, f: { attempts: number; downMs: number }): void {
  log.debug({ event: 'nats.connection.reconnecting', ...f }, 'still trying to reach NATS');
}

export function connectionRestored(log: Logger, f: { server: string; downMs: number }): void {
  log.info({ event: 'nats.connection.reconnected', ...f }, 'reconnected to the NATS server');
}

export function connectionServerError(log: Logger, f: { err: unknown }): void {
  log.warn({ event: 'nats.connection.error', ...f }, 'the NATS server reported an error');
}

export function connectionClosed(log: Logger, f: { byBackend: boolean; err?: unknown }): void {
  if (f.byBackend) log.info({ event: 'nats.connection.closed', ...f }, 'NATS connection closed');
  else {
    log.error({ event: 'nats.connection.closed', ...f },
      'the NATS connection closed for good; the backend closes with it');
  }
}
