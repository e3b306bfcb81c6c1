import type { Logger } from 'pino';
import type { OrchestrationService } from '../core/orchestration-service.ts';
import { silentLogger } from '../logging/logger.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { hostOptions, OptionChecks } from '../util/option-checks.ts';
import { checkKnownKeys, optionKeys } from '../util/option-keys.ts';
import type { ActivityMiddleware, OrchestrationMiddleware } from './middleware.ts';
import type { TaskHubWorkerOptions } from './task-hub-worker.ts';
import { DEFAULT_UNKNOWN_TYPE_RETRY_MS } from './unknown-type.ts';
import type { VersioningOptions } from './versioning.ts';

/** Most fetch loops of one dispatcher: each is a lock call always in flight. */
export const MAX_DISPATCHER_COUNT = 100;
const MAX_CONCURRENT = 100_000;

/** Every worker option checked, with defaults applied. */
export interface ResolvedWorkerOptions {
  readonly service: OrchestrationService;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly extendedSessions: boolean;
  readonly maxCachedExecutors: number;
  readonly maxConcurrentOrchestrations: number;
  readonly maxConcurrentActivities: number;
  readonly orchestrationDispatcherCount: number;
  readonly activityDispatcherCount: number;
  readonly orchestrationMiddleware: readonly OrchestrationMiddleware[];
  readonly activityMiddleware: readonly ActivityMiddleware[];
  readonly receiveTimeoutMs: number;
  readonly unknownTypeRetryMs: number;
  readonly versioning: VersioningOptions | undefined;
  readonly stopTimeoutMs: number;
}

const LOGGER_METHODS = ['child', 'debug', 'info', 'warn', 'error'];

const WORKER_KEYS = optionKeys<TaskHubWorkerOptions>({
  backend: true, service: true, logger: true, clock: true, extendedSessions: true,
  maxCachedExecutors: true, maxConcurrentOrchestrations: true, maxConcurrentActivities: true,
  orchestrationDispatcherCount: true, activityDispatcherCount: true,
  orchestrationMiddleware: true, activityMiddleware: true, receiveTimeoutMs: true,
  unknownTypeRetryMs: true, versioning: true, stopTimeoutMs: true,
});
const VERSIONING_KEYS = optionKeys<VersioningOptions>({
  version: true, match: true, onMismatch: true,
});

/**
 * The one place worker options are checked. Counts must be integers,
 * durations finite (and at most 2^31-1 ms where they feed timers), names
 * from their lists; a bad value throws INVALID_ARGUMENT naming the option and
 * the value, and so does a name the worker does not know (a typo). Counts not
 * given come from the service, checked the same way.
 */
export function resolveWorkerOptions(given: TaskHubWorkerOptions | undefined):
  ResolvedWorkerOptions {
  const o = hostOptions('TaskHubWorker', given, WORKER_KEYS);
  // Typed explicitly so that a failing check narrows like a throw.
  const c: OptionChecks = new OptionChecks('TaskHubWorker');
  const service = o.service ?? c.object('backend', o.backend)?.service;
  if (!service) c.fail('backend', 'a backend (or give `service`)', o.backend);
  c.methods('service', service, ['lockNextOrchestrationWorkItem', 'lockNextActivityWorkItem',
    'start', 'stop']);
  const counts = (name: string, value: unknown, fromService: unknown, max: number): number => {
    const n = c.integer(name, value, -1, { min: 1, max });
    if (n !== -1) return n;
    return new OptionChecks('The service of TaskHubWorker').integer(name, fromService, 1,
      { min: 1, max });
  };
  return {
    service,
    logger: c.methods('logger', o.logger, LOGGER_METHODS) ?? silentLogger(),
    clock: c.methods('clock', o.clock, ['now', 'sleep']) ?? systemClock,
    extendedSessions: c.boolean('extendedSessions', o.extendedSessions, true),
    maxCachedExecutors: c.integer('maxCachedExecutors', o.maxCachedExecutors, 1000,
      { min: 0, max: 10_000_000 }),
    maxConcurrentOrchestrations: counts('maxConcurrentOrchestrations',
      o.maxConcurrentOrchestrations, service.maxConcurrentOrchestrationWorkItems, MAX_CONCURRENT),
    maxConcurrentActivities: counts('maxConcurrentActivities', o.maxConcurrentActivities,
      service.maxConcurrentActivityWorkItems, MAX_CONCURRENT),
    orchestrationDispatcherCount: counts('orchestrationDispatcherCount',
      o.orchestrationDispatcherCount, service.orchestrationDispatcherCount, MAX_DISPATCHER_COUNT),
    activityDispatcherCount: counts('activityDispatcherCount', o.activityDispatcherCount,
      service.activityDispatcherCount, MAX_DISPATCHER_COUNT),
    orchestrationMiddleware: c.functions('orchestrationMiddleware', o.orchestrationMiddleware),
    activityMiddleware: c.functions('activityMiddleware', o.activityMiddleware),
    // A lock call waits this long at most: it must wait at all, or a loop would only poll.
    receiveTimeoutMs: c.duration('receiveTimeoutMs', o.receiveTimeoutMs, 30_000, { min: 1 }),
    unknownTypeRetryMs: c.duration('unknownTypeRetryMs', o.unknownTypeRetryMs,
      DEFAULT_UNKNOWN_TYPE_RETRY_MS, { min: 0, max: Number.MAX_SAFE_INTEGER }),
    versioning: checkVersioning(c, o.versioning),
    stopTimeoutMs: c.duration('stopTimeoutMs', o.stopTimeoutMs, 30_000, { min: 0 }),
  };
}

function checkVersioning(c: OptionChecks, value: VersioningOptions | undefined):
  VersioningOptions | undefined {
  const v = c.object('versioning', value);
  if (v === undefined) return undefined;
  checkKnownKeys('TaskHubWorker', v, VERSIONING_KEYS, 'versioning');
  if (typeof v.version !== 'string') c.fail('versioning.version', 'a string', v.version);
  return {
    version: v.version,
    match: required(c, 'versioning.match', v.match, ['none', 'strict', 'currentOrOlder']),
    onMismatch: required(c, 'versioning.onMismatch', v.onMismatch, ['fail', 'reject']),
  };
}

function required<T extends string>(c: OptionChecks, name: string, value: unknown,
  allowed: readonly T[]): T {
  if (value === undefined) c.fail(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  return c.oneOf(name, value, allowed, allowed[0] as T);
}
