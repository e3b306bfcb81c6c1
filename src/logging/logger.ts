import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * A logger that writes nothing, used when the caller passes none. The library
 * never logs to a global logger.
 */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** The logger the command line and the demo use: JSON lines on stderr. */
export function defaultLogger(level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination(2));
}
