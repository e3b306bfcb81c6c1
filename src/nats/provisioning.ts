import {
  AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type ConsumerConfig, type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { nanos } from '@nats-io/transport-node';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { HubResources } from './hub-resources.ts';
import { ID_ENCODING, SCHEMA_VERSION } from './names.ts';
import { isConsumerNotFound, isStreamNotFound, isWrongLastSequence } from './nats-errors.ts';
import { decodeJson, encodeJson } from './wire.ts';

/** What `DT_H_META` key `config` holds; every process checks it. */
export interface HubConfig {
  readonly partitions: number;
  readonly idEncoding: string;
  readonly schemaVersion: number;
}

export const META_KEY = 'config';

/**
 * The partition count a hub was created with, or undefined when the hub (or
 * its record) does not exist yet. A process that does not set `partitions`
 * adopts it, so clients and tools need not repeat the workers' setting.
 */
export async function storedPartitions(meta: KV): Promise<number | undefined> {
  try {
    const entry = await meta.get(META_KEY);
    if (!entry || entry.operation !== 'PUT') return undefined;
    const n = decodeJson<Partial<HubConfig>>(entry.value, 'hub config').partitions;
    return Number.isInteger(n) && (n as number) > 0 ? n : undefined;
  } catch (err) {
    if (isStreamNotFound(err)) return undefined;
    throw err;
  }
}
const MAX_ACK_PENDING = 20_000;

/** Stream names of the message queues (recreated by `create`). */
function queueStreams(res: HubResources): string[] {
  const n = res.names;
  return [n.orchStream, n.actStream, n.deadStream, ...[
    n.leasesBucket, n.workersBucket, n.timersBucket, n.metaBucket,
  ].map((b) => `KV_${b}`)];
}

/** Stream names of the instance store (history, records, payloads). */
function storeStreams(res: HubResources): string[] {
  const n = res.names;
  return [n.histStream, `KV_${n.instancesBucket}`, `OBJ_${n.blobsBucket}`];
}

async function streamExists(res: HubResources, name: string): Promise<boolean> {
  try {
    await res.jsm.streams.info(name);
    return true;
  } catch (err) {
    if (isStreamNotFound(err)) return false;
    throw err;
  }
}

async function deleteStream(res: HubResources, name: string): Promise<void> {
  try {
    await res.jsm.streams.delete(name);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
  }
}

async function ensureStream(res: HubResources, config: Partial<StreamConfig> & { name: string }):
  Promise<void> {
  if (await streamExists(res, config.name)) return;
  try {
    await res.jsm.streams.add(config);
  } catch (err) {
    // Another process may have created it between the check and the add.
    if (!(await streamExists(res, config.name))) throw err;
  }
}

async function ensureConsumer(res: HubResources, stream: string, config: Partial<ConsumerConfig> &
  { durable_name: string }): Promise<void> {
  try {
    await res.jsm.consumers.info(stream, config.durable_name);
    return;
  } catch (err) {
    if (!isConsumerNotFound(err)) throw err;
  }
  await res.jsm.consumers.add(stream, config);
}

async function ensureBucket(res: HubResources, bucket: string, ttlMs?: number): Promise<void> {
  if (await streamExists(res, `KV_${bucket}`)) return;
  const { replicas } = res.options;
  await new Kvm(res.js).create(bucket, {
    history: 1, replicas, storage: StorageType.File, allow_direct: true,
    ...(ttlMs ? { ttl: ttlMs } : {}),
  });
}

/** Creates every stream, consumer and bucket that is missing, then checks the metadata. */
export async function ensureHub(res: HubResources): Promise<void> {
  const { names: n, options: o } = res;
  const dupWindow = nanos(o.duplicateWindowMs);
  const common = {
    storage: StorageType.File, num_replicas: o.replicas, duplicate_window: dupWindow,
  };

  await Promise.all([
    ensureStream(res, { name: n.orchStream, subjects: [n.orchSubjects],
      retention: RetentionPolicy.Workqueue, ...common }),
    ensureStream(res, { name: n.histStream, subjects: [n.histSubjects],
      retention: RetentionPolicy.Limits, allow_direct: true, ...common }),
    ensureStream(res, { name: n.actStream, subjects: [n.actSubjects],
      retention: RetentionPolicy.Workqueue, ...common }),
    ensureStream(res, { name: n.deadStream, subjects: [n.deadSubjects],
      retention: RetentionPolicy.Limits, ...common }),
    ensureBucket(res, n.leasesBucket, o.leaseMs),
    ensureBucket(res, n.workersBucket, o.leaseMs),
    ensureBucket(res, n.instancesBucket),
    ensureBucket(res, n.timersBucket),
    ensureBucket(res, n.metaBucket),
    streamExists(res, `OBJ_${n.blobsBucket}`).then((exists) => exists ? undefined :
      new Objm(res.js).create(n.blobsBucket, { replicas: o.replicas, storage: StorageType.File })
        .then(() => undefined)),
  ]);

  await checkHubConfig(res, true);

  const partitionConsumers: Promise<void>[] = [];
  for (let p = 0; p < n.partitions; p++) {
    partitionConsumers.push(ensureConsumer(res, n.orchStream, {
      durable_name: n.orchConsumer(p), filter_subject: n.orchPartitionFilter(p),
      ack_policy: AckPolicy.Explicit, ack_wait: nanos(o.leaseMs), max_deliver: -1,
      max_ack_pending: MAX_ACK_PENDING, deliver_policy: DeliverPolicy.All,
    }));
    // No relay consumer on the commit log: outboxes are resent from a mark (outbox-relay.ts).
  }
  partitionConsumers.push(ensureConsumer(res, n.actStream, {
    durable_name: n.activityConsumer, filter_subject: n.actSubjects,
    ack_policy: AckPolicy.Explicit, ack_wait: nanos(o.activityLockMs), max_deliver: -1,
    max_ack_pending: MAX_ACK_PENDING, deliver_policy: DeliverPolicy.All,
  }));
  await Promise.all(partitionConsumers);
}

/**
 * Reads `DT_H_META` and refuses a hub whose partitions, id encoding or schema
 * differ from this process's. With `writeIfMissing`, a missing record is
 * created (create-if-absent, so two racing creators agree).
 */
export async function checkHubConfig(res: HubResources, writeIfMissing: boolean): Promise<void> {
  const mine: HubConfig = {
    partitions: res.names.partitions, idEncoding: ID_ENCODING, schemaVersion: SCHEMA_VERSION,
  };
  let entry;
  try {
    entry = await res.meta.get(META_KEY);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    entry = null;
  }
  if ((!entry || entry.operation !== 'PUT') && writeIfMissing) {
    try {
      await res.meta.create(META_KEY, encodeJson(mine));
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
    entry = await res.meta.get(META_KEY);
  }
  if (!entry || entry.operation !== 'PUT') {
    throw new DurableTaskError(ErrorCode.INVALID_HUB_STATE,
      `Task hub '${res.names.hub}' does not exist; call createIfNotExists() first.`);
  }
  const stored = decodeJson<HubConfig>(entry.value, 'hub config');
  const diffs = (Object.keys(mine) as (keyof HubConfig)[])
    .filter((k) => stored[k] !== mine[k])
    .map((k) => `${k} is ${JSON.stringify(stored[k])} in the hub, ${JSON.stringify(mine[k])} here`);
  if (diffs.length > 0) {
    throw new DurableTaskError(ErrorCode.HUB_CONFIG_MISMATCH,
      `Task hub '${res.names.hub}' was created with another configuration: ${diffs.join('; ')}.`);
  }
}

/** Deletes the queues and, when asked, the instance store. Missing pieces are fine. */
export async function deleteHub(res: HubResources, deleteInstanceStore: boolean): Promise<void> {
  const names = [...queueStreams(res), ...(deleteInstanceStore ? storeStreams(res) : [])];
  await Promise.all(names.map((s) => deleteStream(res, s)));
}
