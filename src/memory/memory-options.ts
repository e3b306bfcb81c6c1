import type { Logger } from 'pino';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { DedupeRule } from '../core/orchestration-service-client.ts';
import type { ContinueAsNewEventBehaviour } from '../core/orchestration-service.ts';
import type { WorkItemFaultHooks } from '../core/fault-hooks.ts';
import { validateHubName } from '../core/validation.ts';
import { silentLogger } from '../logging/logger.ts';
import { MAX_TIMEOUT_MS, systemClock, type Clock } from '../util/clock.ts';
import { OptionChecks, optionsObject } from '../util/option-checks.ts';
import { checkKnownKeys, optionKeys } from '../util/option-keys.ts';
import type { MemoryBackend } from './memory-backend.ts';

/**
 * Fault hooks for tests (the hooks every backend offers). The backend keeps
 * its own copy (`backend.faults`), which tests may change while it runs.
 */
export type MemoryFaults = WorkItemFaultHooks;

export interface MemoryBackendOptions {
  /**
   * Another memory backend whose hub state this one shares, as two processes
   * share one server: a second worker gets its own lifecycle, waits and
   * locks over the same instances and queues. The hub-level options (`hub`,
   * `clock`, lock lengths, batch size, dedupe rule, abandon back-off) come
   * from that backend; giving a different value fails with HUB_CONFIG_MISMATCH.
   */
  readonly shareStoreWith?: MemoryBackend;
  /** Task hub name (letters, digits, `_`, `-`, 1 to 32). Default `default`. */
  readonly hub?: string;
  /** Time source for locks, timers, scheduled starts and waits. Default: the system clock. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Orchestration lock length. Default 30 s. */
  readonly orchestrationLockMs?: number;
  /** Activity lock length. Default 30 s. */
  readonly activityLockMs?: number;
  /** Most messages in one orchestration work item. Default 1000. */
  readonly maxBatchMessages?: number;
  /** Most outbound messages per checkpoint (`isMaxMessageCountExceeded`); absent or 0: no limit. */
  readonly maxMessagesPerCheckpoint?: number;
  /** Rule for creating an id that exists. Default `default`. */
  readonly dedupeRule?: DedupeRule;
  /**
   * Failed deliveries (abandoned as a failure, or lock lapsed) after which a
   * message is dead-lettered and the instance waiting on it is told. Default 10.
   */
  readonly maxDeliveries?: number;
  readonly orchestrationDispatcherCount?: number;
  readonly maxConcurrentOrchestrationWorkItems?: number;
  readonly activityDispatcherCount?: number;
  readonly maxConcurrentActivityWorkItems?: number;
  /** Default `carryover`. */
  readonly eventBehaviourForContinueAsNew?: ContinueAsNewEventBehaviour;
  /**
   * Redelivery delay after repeated abandons of the same batch or activity:
   * none after the first, then `abandonBackoffMs` doubling up to
   * `maxAbandonBackoffMs`. Defaults 100 ms and 5 s.
   */
  readonly abandonBackoffMs?: number;
  readonly maxAbandonBackoffMs?: number;
  /** Dispatcher back-off after a lock call threw. Default 1 s. */
  readonly fetchErrorDelayMs?: number;
  /** Dispatcher back-off after processing a work item threw. Default 0. */
  readonly processErrorDelayMs?: number;
  /** A graceful stop waits at most this long for held locks to be released. Default 10 s. */
  readonly drainTimeoutMs?: number;
  readonly faults?: MemoryFaults;
}

export interface ResolvedMemoryOptions {
  readonly hub: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly orchestrationLockMs: number;
  readonly activityLockMs: number;
  readonly maxBatchMessages: number;
  readonly maxMessagesPerCheckpoint: number;
  readonly dedupeRule: DedupeRule;
  readonly maxDeliveries: number;
  readonly orchestrationDispatcherCount: number;
  readonly maxConcurrentOrchestrationWorkItems: number;
  readonly activityDispatcherCount: number;
  readonly maxConcurrentActivityWorkItems: number;
  readonly eventBehaviourForContinueAsNew: ContinueAsNewEventBehaviour;
  readonly abandonBackoffMs: number;
  readonly maxAbandonBackoffMs: number;
  readonly fetchErrorDelayMs: number;
  readonly processErrorDelayMs: number;
  readonly drainTimeoutMs: number;
  readonly faults: MemoryFaults;
}

const checks: OptionChecks = new OptionChecks('Memory backend');

function count(value: unknown, name: string, fallback: number, min: number, max?: number):
  number {
  return checks.integer(name, value, fallback, { min, ...(max ? { max } : {}) });
}

/** Whole milliseconds, at most 2^31-1: these feed lock deadlines and clock sleeps. */
function ms(value: unknown, name: string, fallback: number, min: number): number {
  return checks.integer(name, value, fallback, { min, max: MAX_TIMEOUT_MS });
}

function oneOf<T extends string>(
  value: unknown,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  return checks.oneOf(name, value, allowed, fallback);
}

/** Most fetch loops a dispatcher may run (as the worker allows). */
const MAX_DISPATCHER_COUNT = 100;

const MEMORY_KEYS = optionKeys<MemoryBackendOptions>({
  shareStoreWith: true, hub: true, clock: true, logger: true, orchestrationLockMs: true,
  activityLockMs: true, maxBatchMessages: true, maxMessagesPerCheckpoint: true,
  dedupeRule: true, maxDeliveries: true, orchestrationDispatcherCount: true,
  maxConcurrentOrchestrationWorkItems: true, activityDispatcherCount: true,
  maxConcurrentActivityWorkItems: true, eventBehaviourForContinueAsNew: true,
  abandonBackoffMs: true, maxAbandonBackoffMs: true, fetchErrorDelayMs: true,
  processErrorDelayMs: true, drainTimeoutMs: true, faults: true,
});
const FAULT_KEYS = optionKeys<MemoryFaults>({
  failCheckpoints: true, failActivityCompletions: true, failOrchestrationRenewals: true,
  failActivityRenewals: true, beforeCheckpoint: true, beforeActivityCompletion: true,
});

/**
 * The one place memory backend options are checked; fills in defaults.
 * Counts and durations are integers (durations at most 2^31-1 ms), names
 * from their lists; throws INVALID_ARGUMENT naming the option and the value
 * (or the name, for one it does not know, in the options or in `faults`), or
 * INVALID_HUB_NAME.
 */
export function resolveMemoryOptions(given: MemoryBackendOptions = {}): ResolvedMemoryOptions {
  const options = optionsObject('Memory backend', given);
  checkKnownKeys('Memory backend', options, MEMORY_KEYS);
  const faults = checks.object('faults', options.faults);
  if (faults !== undefined) checkKnownKeys('Memory backend', faults, FAULT_KEYS, 'faults');
  const clock = checks.methods('clock', options.clock, ['now', 'sleep']) ?? systemClock;
  const logger = checks.methods('logger', options.logger,
    ['child', 'debug', 'info', 'warn', 'error']) ?? silentLogger();
  const abandonBackoffMs = ms(options.abandonBackoffMs, 'abandonBackoffMs', 100, 0);
  return {
    hub: validateHubName(options.hub ?? 'default'),
    clock,
    logger,
    orchestrationLockMs: ms(options.orchestrationLockMs, 'orchestrationLockMs', 30_000, 1),
    activityLockMs: ms(options.activityLockMs, 'activityLockMs', 30_000, 1),
    maxBatchMessages: count(options.maxBatchMessages, 'maxBatchMessages', 1000, 1),
    maxMessagesPerCheckpoint: count(options.maxMessagesPerCheckpoint,
      'maxMessagesPerCheckpoint', 0, 0),
    dedupeRule: oneOf(options.dedupeRule, 'dedupeRule', ['default', 'legacy'], 'default'),
    maxDeliveries: count(options.maxDeliveries, 'maxDeliveries', 10, 1),
    orchestrationDispatcherCount: count(options.orchestrationDispatcherCount,
      'orchestrationDispatcherCount', 1, 1, MAX_DISPATCHER_COUNT),
    maxConcurrentOrchestrationWorkItems: count(options.maxConcurrentOrchestrationWorkItems,
      'maxConcurrentOrchestrationWorkItems', 20, 1),
    activityDispatcherCount: count(options.activityDispatcherCount,
      'activityDispatcherCount', 1, 1, MAX_DISPATCHER_COUNT),
    maxConcurrentActivityWorkItems: count(options.maxConcurrentActivityWorkItems,
      'maxConcurrentActivityWorkItems', 20, 1),
    eventBehaviourForContinueAsNew: oneOf(options.eventBehaviourForContinueAsNew,
      'eventBehaviourForContinueAsNew', ['carryover', 'ignore'], 'carryover'),
    abandonBackoffMs,
    maxAbandonBackoffMs: ms(options.maxAbandonBackoffMs, 'maxAbandonBackoffMs',
      Math.max(5_000, abandonBackoffMs), abandonBackoffMs),
    fetchErrorDelayMs: ms(options.fetchErrorDelayMs, 'fetchErrorDelayMs', 1_000, 0),
    processErrorDelayMs: ms(options.processErrorDelayMs, 'processErrorDelayMs', 0, 0),
    drainTimeoutMs: ms(options.drainTimeoutMs, 'drainTimeoutMs', 10_000, 0),
    faults: { ...faults },
  };
}

/** Redelivery delay after the `n`-th consecutive abandon (1-based): 0, base, 2 base, ... max. */
export function abandonDelayMs(n: number, baseMs: number, maxMs: number): number {
  if (n <= 1 || baseMs === 0) return 0;
  const exp = Math.min(n - 2, 30);
  return Math.min(maxMs, baseMs * 2 ** exp);
}

/** Options that describe the shared hub state; the rest belong to each backend. */
const HUB_LEVEL = [
  'hub', 'clock', 'orchestrationLockMs', 'activityLockMs', 'maxBatchMessages', 'dedupeRule',
  'abandonBackoffMs', 'maxAbandonBackoffMs', 'maxDeliveries',
] as const;

/**
 * Options of a backend joining an existing hub: the hub's own values for the
 * hub-level options (a different explicit value is HUB_CONFIG_MISMATCH), this
 * backend's values for the rest.
 */
export function joinHubOptions(
  given: MemoryBackendOptions,
  mine: ResolvedMemoryOptions,
  hub: ResolvedMemoryOptions,
): ResolvedMemoryOptions {
  for (const key of HUB_LEVEL) {
    const value = given[key];
    if (value !== undefined && value !== hub[key]) {
      throw new DurableTaskError(ErrorCode.HUB_CONFIG_MISMATCH,
        `Memory backend option '${key}' must match the hub it shares ` +
        `(${key === 'clock' ? 'another clock' : JSON.stringify(value)} given, hub has ` +
        `${key === 'clock' ? 'its own' : JSON.stringify(hub[key])}).`);
    }
  }
  const joined: Record<string, unknown> = { ...mine };
  for (const key of HUB_LEVEL) joined[key] = hub[key];
  return joined as unknown as ResolvedMemoryOptions;
}
