import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import type { DedupeRule } from '../core/orchestration-service-client.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { OptionChecks, optionsObject } from '../util/option-checks.ts';
import { checkKnownKeys, optionKeys } from '../util/option-keys.ts';
import type { NatsFaultHooks } from './fault-hooks.ts';

/** Options of `createNatsBackend`. Durations are milliseconds. */
export interface NatsBackendOptions {
  /** Server URL(s); ignored when `connection` is given. @default 'nats://127.0.0.1:4222' */
  readonly servers?: string | readonly string[];
  /** An open connection to use; the backend does not close it. */
  readonly connection?: NatsConnection;
  /** Task hub name: letters, digits, `_`, `-`, at most 32. */
  readonly hub: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Partitions of the orchestration stream, fixed at create. @default 16 */
  readonly partitions?: number;
  /** Partition lease length; also the orchestration consumers' ack wait. @default 10000 */
  readonly leaseMs?: number;
  /** Activity lock length (the activity consumer's ack wait). @default 30000 */
  readonly activityLockMs?: number;
  /** Cap on messages one checkpoint may produce (0 = no cap). @default 0 */
  readonly maxMessagesPerCheckpoint?: number;
  /** Create-dedupe rule. @default 'default' */
  readonly dedupeRule?: DedupeRule;
  /** Deliveries before a message is dead-lettered. @default 10 */
  readonly maxDeliveries?: number;
  /**
   * How often a partition owner looks for Pending records whose start was
   * never sent (their creator died), besides once on takeover. @default 300000
   */
  readonly pendingScanIntervalMs?: number;
  /** Publish de-duplication window of the streams. @default 120000 */
  readonly duplicateWindowMs?: number;
  /** Stream replicas (3 on a cluster). @default 1 */
  readonly replicas?: number;
  /** Payloads above this many bytes go to the object store. @default 524288 */
  readonly payloadLimitBytes?: number;
  /** Messages held in memory per owned partition. @default 512 */
  readonly prefetchPerPartition?: number;
  /** Messages held in memory by all owned partitions together. @default 1024 */
  readonly prefetchTotal?: number;
  /** Most messages in one orchestration work item. @default 200 */
  readonly maxMessagesPerWorkItem?: number;
  /** Activity messages buffered ahead of lock calls. @default 16 */
  readonly activityPrefetch?: number;
  readonly orchestrationDispatcherCount?: number;
  readonly maxConcurrentOrchestrationWorkItems?: number;
  readonly activityDispatcherCount?: number;
  readonly maxConcurrentActivityWorkItems?: number;
  /**
   * Pause between attempts to reach the server again after it was lost; the
   * backend keeps trying for as long as the outage lasts. @default 2000
   */
  readonly reconnectWaitMs?: number;
  /** Name of this worker in leases and logs. @default a random id */
  readonly workerId?: string;
  /** Fault-injection hooks for tests; the backend keeps a copy (`backend.faults`). */
  readonly faults?: NatsFaultHooks;
}

/** Options with every default applied. */
export interface ResolvedNatsOptions {
  readonly servers: string[];
  readonly connection: NatsConnection | undefined;
  readonly hub: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly partitions: number;
  /** False when `partitions` was not given: an existing hub's count is then adopted. */
  readonly partitionsGiven: boolean;
  readonly leaseMs: number;
  /** How often leases and the worker heartbeat are renewed. */
  readonly renewIntervalMs: number;
  /** A lease counts as lost this long before its TTL would end. */
  readonly leaseMarginMs: number;
  readonly activityLockMs: number;
  readonly maxMessagesPerCheckpoint: number;
  readonly dedupeRule: DedupeRule;
  readonly maxDeliveries: number;
  readonly pendingScanIntervalMs: number;
  readonly duplicateWindowMs: number;
  readonly replicas: number;
  readonly payloadLimitBytes: number;
  readonly prefetchPerPartition: number;
  readonly prefetchTotal: number;
  readonly maxMessagesPerWorkItem: number;
  readonly maxBytesPerWorkItem: number;
  readonly activityPrefetch: number;
  readonly orchestrationDispatcherCount: number;
  readonly maxConcurrentOrchestrationWorkItems: number;
  readonly activityDispatcherCount: number;
  readonly maxConcurrentActivityWorkItems: number;
  readonly reconnectWaitMs: number;
  readonly workerId: string;
  readonly faults: NatsFaultHooks;
}

/** Most partitions a hub may have (each has a lease, a consumer and a relay consumer). */
const MAX_PARTITIONS = 1024;
/** Largest inline payload limit: the most nats-server accepts in one message. */
const MAX_PAYLOAD_LIMIT = 64 * 1024 * 1024;
const MAX_DISPATCHER_COUNT = 100;
const WORKER_ID = /^[A-Za-z0-9_-]{1,64}$/;

const NATS_KEYS = optionKeys<NatsBackendOptions>({
  servers: true, connection: true, hub: true, logger: true, clock: true, partitions: true,
  leaseMs: true, activityLockMs: true, maxMessagesPerCheckpoint: true, dedupeRule: true,
  maxDeliveries: true, pendingScanIntervalMs: true, duplicateWindowMs: true, replicas: true,
  payloadLimitBytes: true, prefetchPerPartition: true, prefetchTotal: true,
  maxMessagesPerWorkItem: true, activityPrefetch: true, orchestrationDispatcherCount: true,
  maxConcurrentOrchestrationWorkItems: true, activityDispatcherCount: true,
  maxConcurrentActivityWorkItems: true, reconnectWaitMs: true, workerId: true, faults: true,
});
const FAULT_KEYS = optionKeys<NatsFaultHooks>({
  failCheckpoints: true, failActivityCompletions: true, failOrchestrationRenewals: true,
  failActivityRenewals: true, beforeCheckpoint: true, beforeActivityCompletion: true,
  afterCommit: true, beforeCommitPublish: true, beforeRelay: true, pauseLeases: true,
});

/**
 * The one place `createNatsBackend` options are checked: counts are
 * integers, durations finite and at most 2^31-1 ms (they feed timers, TTLs
 * and ack waits), names from their lists. A bad value throws INVALID_ARGUMENT
 * naming the option and the value, and so does a name the backend does not
 * know (a typo), in the options or in `faults`. The hub name is checked by
 * the caller. Nothing here needs a server.
 */
export function resolveNatsOptions(given: NatsBackendOptions): ResolvedNatsOptions {
  const options = optionsObject('NATS backend', given);
  checkKnownKeys('NATS backend', options, NATS_KEYS);
  const c: OptionChecks = new OptionChecks('NATS backend');
  const faults = c.object('faults', options.faults);
  if (faults !== undefined) checkKnownKeys('NATS backend', faults, FAULT_KEYS, 'faults');
  const leaseMs = c.duration('leaseMs', options.leaseMs, 10_000, { min: 1_000 });
  const count = (name: keyof NatsBackendOptions, fallback: number, max?: number): number =>
    c.integer(name, options[name], fallback, { min: 1, ...(max ? { max } : {}) });
  return {
    servers: checkServers(c, options.servers),
    connection: c.methods('connection', options.connection, ['isClosed', 'closed', 'status']),
    hub: options.hub,
    logger: c.methods('logger', options.logger, ['child', 'debug', 'info', 'warn', 'error']) ??
      silentLogger(),
    clock: c.methods('clock', options.clock, ['now', 'sleep']) ?? systemClock,
    partitions: count('partitions', 16, MAX_PARTITIONS),
    partitionsGiven: options.partitions !== undefined,
    leaseMs,
    renewIntervalMs: Math.max(200, Math.floor(leaseMs * 0.3)),
    leaseMarginMs: Math.max(250, Math.floor(leaseMs * 0.15)),
    activityLockMs: c.duration('activityLockMs', options.activityLockMs, 30_000, { min: 1_000 }),
    maxMessagesPerCheckpoint: c.integer('maxMessagesPerCheckpoint',
      options.maxMessagesPerCheckpoint, 0, { min: 0 }),
    dedupeRule: c.oneOf('dedupeRule', options.dedupeRule, ['default', 'legacy'], 'default'),
    maxDeliveries: count('maxDeliveries', 10),
    pendingScanIntervalMs: c.duration('pendingScanIntervalMs', options.pendingScanIntervalMs,
      300_000, { min: 100 }),
    duplicateWindowMs: c.duration('duplicateWindowMs', options.duplicateWindowMs, 120_000,
      { min: 1_000 }),
    replicas: count('replicas', 1, 5),
    payloadLimitBytes: c.integer('payloadLimitBytes', options.payloadLimitBytes, 512 * 1024,
      { min: 1024, max: MAX_PAYLOAD_LIMIT }),
    prefetchPerPartition: count('prefetchPerPartition', 512),
    prefetchTotal: count('prefetchTotal', 1024),
    maxMessagesPerWorkItem: count('maxMessagesPerWorkItem', 200),
    maxBytesPerWorkItem: 4 * 1024 * 1024,
    activityPrefetch: count('activityPrefetch', 16),
    orchestrationDispatcherCount: count('orchestrationDispatcherCount', 1, MAX_DISPATCHER_COUNT),
    maxConcurrentOrchestrationWorkItems: count('maxConcurrentOrchestrationWorkItems', 100),
    activityDispatcherCount: count('activityDispatcherCount', 1, MAX_DISPATCHER_COUNT),
    maxConcurrentActivityWorkItems: count('maxConcurrentActivityWorkItems', 10),
    reconnectWaitMs: c.duration('reconnectWaitMs', options.reconnectWaitMs, 2_000,
      { min: 10, max: 60_000 }),
    workerId: c.string('workerId', options.workerId, WORKER_ID,
      "1 to 64 letters, digits, '_' or '-'") ?? `w${process.pid.toString(36)}${randomSuffix()}`,
    // A copy: the counters count down, and tests may change hooks on the backend's copy.
    faults: { ...faults },
  };
}

function checkServers(c: OptionChecks, value: unknown): string[] {
  if (value === undefined) return ['nats://127.0.0.1:4222'];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 ||
    list.some((s) => typeof s !== 'string' || s.trim() === '')) {
    c.fail('servers', 'a server URL or a non-empty array of them', value);
  }
  return [...(list as string[])];
}

function randomSuffix(): string {
  return Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, '0');
}
