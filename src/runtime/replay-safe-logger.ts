import type { Logger, LogFn } from 'pino';
import type { OrchestrationLogger } from './orchestration-context.ts';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/**
 * Wraps a logger so that nothing is written while `isReplaying()` is true:
 * orchestrator code logs once per real step, not once per replay. The child
 * logger is made on first use.
 */
export function replaySafeLogger(
  makeLogger: () => Logger,
  isReplaying: () => boolean,
): OrchestrationLogger {
  let logger: Logger | undefined;
  const out: Partial<Record<(typeof LEVELS)[number], LogFn>> = {};
  for (const level of LEVELS) {
    out[level] = ((...args: Parameters<LogFn>) => {
      if (isReplaying()) return;
      logger ??= makeLogger();
      (logger[level] as (...a: unknown[]) => void)(...args);
    }) as LogFn;
  }
  return out as OrchestrationLogger;
}
