import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { validateHubName, validateInstanceId } from '../core/validation.ts';

/** How instance ids become subject and key tokens; stored in the hub metadata. */
export const ID_ENCODING = 'base64url-utf8';
/** Layout version of streams, keys and message bodies; stored in the hub metadata. */
export const SCHEMA_VERSION = 1;

const TOKEN = /^[A-Za-z0-9_-]+$/;
const PLAIN_EXECUTION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Encodes an instance id into one subject/key token: unpadded base64url of its
 * UTF-8 bytes. Reversible, and free of `.`, `*`, `>` and whitespace.
 */
export function encodeInstanceId(instanceId: string): string {
  return Buffer.from(validateInstanceId(instanceId), 'utf8').toString('base64url');
}

/** Reverses `encodeInstanceId`; throws INVALID_INSTANCE_ID for a malformed token. */
export function decodeInstanceId(token: string): string {
  if (!TOKEN.test(token) || token.length % 4 === 1) {
    throw new DurableTaskError(ErrorCode.INVALID_INSTANCE_ID,
      `'${token.slice(0, 64)}' is not an instance-id token.`);
  }
  const id = Buffer.from(token, 'base64url').toString('utf8');
  if (Buffer.from(id, 'utf8').toString('base64url') !== token) {
    throw new DurableTaskError(ErrorCode.INVALID_INSTANCE_ID,
      `The token '${token.slice(0, 64)}' does not decode to a UTF-8 instance id.`);
  }
  return id;
}

/**
 * Encodes an execution id for a key token. Plain ids (letters, digits, `_`,
 * `-`) stay as they are; anything else becomes `=` + base64url, which cannot
 * collide because plain ids never contain `=`.
 */
export function encodeExecutionId(executionId: string): string {
  if (PLAIN_EXECUTION_ID.test(executionId)) return executionId;
  if (executionId.length === 0) {
    throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT, 'An execution id must not be empty.');
  }
  return `=${Buffer.from(executionId, 'utf8').toString('base64url')}`;
}

export function decodeExecutionId(token: string): string {
  return token.startsWith('=') ? Buffer.from(token.slice(1), 'base64url').toString('utf8') : token;
}

/** FNV-1a 32-bit hash of the UTF-8 bytes of a string. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Partition of an instance: FNV-1a 32-bit of its id's UTF-8 bytes, modulo partitions. */
export function partitionOf(instanceId: string, partitions: number): number {
  return fnv1a32(instanceId) % partitions;
}

/**
 * Every stream, bucket, consumer, subject and key name of one task hub, derived
 * in one place. `H` is the validated hub name.
 */
export class HubNames {
  readonly hub: string;
  readonly partitions: number;
  readonly orchStream: string;
  readonly histStream: string;
  readonly actStream: string;
  readonly deadStream: string;
  readonly leasesBucket: string;
  readonly workersBucket: string;
  readonly instancesBucket: string;
  readonly timersBucket: string;
  readonly metaBucket: string;
  readonly blobsBucket: string;
  readonly activityConsumer = 'act';
  private readonly prefix: string;

  constructor(hub: string, partitions: number) {
    this.hub = validateHubName(hub);
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) {
      throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
        `partitions must be an integer from 1 to 1024, got ${String(partitions)}.`);
    }
    this.partitions = partitions;
    this.prefix = `dt.${hub}`;
    const base = `DT_${hub}`;
    this.orchStream = `${base}_ORCH`;
    this.histStream = `${base}_HIST`;
    this.actStream = `${base}_ACT`;
    this.deadStream = `${base}_DEAD`;
    this.leasesBucket = `${base}_LEASES`;
    this.workersBucket = `${base}_WORKERS`;
    this.instancesBucket = `${base}_INSTANCES`;
    this.timersBucket = `${base}_TIMERS`;
    this.metaBucket = `${base}_META`;
    this.blobsBucket = `${base}_BLOBS`;
  }

  partitionOf(instanceId: string): number {
    return partitionOf(instanceId, this.partitions);
  }

  /** Wildcard subjects of each stream. */
  get orchSubjects(): string { return `${this.prefix}.orch.>`; }
  get histSubjects(): string { return `${this.prefix}.hist.>`; }
  get actSubjects(): string { return `${this.prefix}.act.>`; }
  get deadSubjects(): string { return `${this.prefix}.dead.>`; }

  orchSubject(partition: number, token: string): string {
    return `${this.prefix}.orch.${partition}.${token}`;
  }
  histSubject(partition: number, token: string): string {
    return `${this.prefix}.hist.${partition}.${token}`;
  }
  actSubject(partition: number, token: string): string {
    return `${this.prefix}.act.${partition}.${token}`;
  }
  deadSubject(kind: 'orch' | 'act', partition: number, token: string): string {
    return `${this.prefix}.dead.${kind}.${partition}.${token}`;
  }
  orchPartitionFilter(partition: number): string {
    return `${this.prefix}.orch.${partition}.>`;
  }
  histPartitionFilter(partition: number): string {
    return `${this.prefix}.hist.${partition}.>`;
  }

  /** Durable pull consumer of one partition of the orchestration stream. */
  orchConsumer(partition: number): string { return `orch-p${partition}`; }
  /** Durable relay consumer of one partition of the commit log. */
  relayConsumer(partition: number): string { return `relay-p${partition}`; }

  /** Lease key of a partition in the leases bucket. */
  leaseKey(partition: number): string { return `p${partition}`; }
  /** Latest-execution record key. */
  instanceKey(token: string): string { return token; }
  /** Per-execution record key. */
  executionKey(token: string, executionId: string): string {
    return `${token}.${encodeExecutionId(executionId)}`;
  }
  /** Filter for every per-execution record of an instance. */
  executionKeysFilter(token: string): string { return `${token}.>`; }
  /** Timer-index key; the partition comes first so an owner can watch its own. */
  timerKey(partition: number, token: string, executionId: string, timerName: string): string {
    return `${partition}.${token}.${encodeExecutionId(executionId)}.${timerName}`;
  }
  timerPartitionFilter(partition: number): string { return `${partition}.>`; }
  timerInstanceFilter(partition: number, token: string): string {
    return `${partition}.${token}.>`;
  }

  /** Start message id: `<token>:<executionId>:start`. */
  startMessageId(token: string, executionId: string): string {
    return `${token}:${executionId}:start`;
  }
  /** Outbox message id: `<token>:<executionId>:<kind>:<actionId>`. */
  outboxMessageId(token: string, executionId: string, kind: string, actionId: string | number):
    string {
    return `${token}:${executionId}:${kind}:${actionId}`;
  }
  /** Activity result id: `<ownerToken>:<ownerExecutionId>:result:<taskScheduledId>`. */
  resultMessageId(ownerToken: string, ownerExecutionId: string, taskScheduledId: number): string {
    return `${ownerToken}:${ownerExecutionId}:result:${taskScheduledId}`;
  }
}
