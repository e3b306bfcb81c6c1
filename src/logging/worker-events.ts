import type { Logger } from './logger.ts';

/** Log events of a worker's own lifecycle beyond start and stop (one function per event). */

export function workerServiceGone(log: Logger, f: { err: unknown }): void {
  log.warn({ event: 'runtime.worker_service_gone', ...f },
    'the backend was closed before the worker stopped; nothing left to stop there');
}
