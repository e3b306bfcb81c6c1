import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { DedupeRule } from '../core/orchestration-service-client.ts';
import { systemClock, type Clock } from '../util/clock.ts';
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
  readonly leaseMs: number;
  /** How often leases and the worker heartbeat are renewed. */
  readonly renewIntervalMs: number;
  /** A lease counts as lost this long before its TTL would end. */
  readonly leaseMarginMs: number;
  readonly activityLockMs: number;
  readonly maxMessagesPerCheckpoint: number;
  readonly dedupeRule: DedupeRule;
  readonly maxDeliveries: number;
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
  readonly workerId: string;
  readonly faults: NatsFaultHooks;
}

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
      `${name} must be a number of at least ${min}, got ${String(value)}.`);
  }
  return v;
}

export function resolveNatsOptions(options: NatsBackendOptions): ResolvedNatsOptions {
  const leaseMs = positive('leaseMs', options.leaseMs, 10_000, 1_000);
  const servers = options.servers === undefined ? ['nats://127.0.0.1:4222']
    : typeof options.servers === 'string' ? [options.servers] : [...options.servers];
  const maxConcurrentActivity = positive('maxConcurrentActivityWorkItems',
    options.maxConcurrentActivityWorkItems, 10);
  return {
    servers,
    connection: options.connection,
    hub: options.hub,
    logger: options.logger ?? silentLogger(),
    clock: options.clock ?? systemClock,
    partitions: positive('partitions', options.partitions, 16),
    leaseMs,
    renewIntervalMs: Math.max(200, Math.floor(leaseMs * 0.3)),
    leaseMarginMs: Math.max(250, Math.floor(leaseMs * 0.15)),
    activityLockMs: positive('activityLockMs', options.activityLockMs, 30_000, 1_000),
    maxMessagesPerCheckpoint: positive('maxMessagesPerCheckpoint',
      options.maxMessagesPerCheckpoint, 0, 0),
    dedupeRule: options.dedupeRule ?? 'default',
    maxDeliveries: positive('maxDeliveries', options.maxDeliveries, 10),
    duplicateWindowMs: positive('duplicateWindowMs', options.duplicateWindowMs, 120_000, 1_000),
    replicas: positive('replicas', options.replicas, 1),
    payloadLimitBytes: positive('payloadLimitBytes', options.payloadLimitBytes, 512 * 1024, 1024),
    prefetchPerPartition: positive('prefetchPerPartition', options.prefetchPerPartition, 512),
    prefetchTotal: positive('prefetchTotal', options.prefetchTotal, 1024),
    maxMessagesPerWorkItem: positive('maxMessagesPerWorkItem', options.maxMessagesPerWorkItem, 200),
    maxBytesPerWorkItem: 4 * 1024 * 1024,
    activityPrefetch: positive('activityPrefetch', options.activityPrefetch, 16),
    orchestrationDispatcherCount: positive('orchestrationDispatcherCount',
      options.orchestrationDispatcherCount, 1),
    maxConcurrentOrchestrationWorkItems: positive('maxConcurrentOrchestrationWorkItems',
      options.maxConcurrentOrchestrationWorkItems, 100),
    activityDispatcherCount: positive('activityDispatcherCount',
      options.activityDispatcherCount, 1),
    maxConcurrentActivityWorkItems: maxConcurrentActivity,
    workerId: options.workerId ?? `w${process.pid.toString(36)}${randomSuffix()}`,
    // A copy: the counters count down, and tests may change hooks on the backend's copy.
    faults: { ...options.faults },
  };
}

function randomSuffix(): string {
  return Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, '0');
}
