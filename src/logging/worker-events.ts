import type { Logger } from './logger.ts';

/** Log events of a worker's own lifecycle beyond start and stop (one function per event). */

export function workerServiceGone(log: Logger, f: { err: unknown }): void {
  log.warn({ event: 'runtime.worker_service_gone', ...f },
    'the backend was closed before the worker stopped; nothing left to stop there');
}

export function workerDisconnected(log: Logger): void {
  log.warn({ event: 'runtime.worker_disconnected' },
    'the backend lost its server; work pauses until it is back');
}

export function workerReconnected(log: Logger): void {
  log.info({ event: 'runtime.worker_reconnected' }, 'the backend is connected again; work resumes');
}

export function workerConnectionClosed(log: Logger): void {
  log.error({ event: 'runtime.worker_connection_closed' },
    'the backend connection closed for good; stop this worker');
}
