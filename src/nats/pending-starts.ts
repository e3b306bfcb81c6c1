import { taskMessage, type TaskMessage } from '../core/task-message.ts';
import type { Logger } from '../logging/logger.ts';
import { backgroundError, startResent } from '../logging/nats-events.ts';
import type { HubResources } from './hub-resources.ts';
import { decodeInstanceId } from './names.ts';
import {
  decodeJson, encodeJson, toWireMessage, type InstanceRecord, type TimerEntry,
} from './wire.ts';

/** A record this young may be a create still in progress: left alone. */
const MIN_AGE_MS = 5_000;
/** Most Pending records one scan repairs (the rest wait for the next scan). */
const MAX_REPAIRS_PER_SCAN = 1_000;
/** The first scans of newly owned partitions start within this long. */
const FIRST_SCAN_SPREAD_MS = 30_000;

/** One listing of Pending records is shared by the scans of this long (their first spread). */
const LISTING_REUSE_MS = FIRST_SCAN_SPREAD_MS + 5_000;
/** Longest wait for one listing of the latest records. */
const LISTING_TIMEOUT_MS = 60_000;
/** A Pending record as stored (compact JSON): most records are skipped without parsing. */
const PENDING_MARK = Buffer.from('"orchestrationStatus":"Pending"', 'utf8');

const listings = new WeakMap<HubResources, { readonly at: number;
  readonly keys: Promise<Map<number, string[]>> }>();

/**
 * Keys of the Pending latest records, by partition: one ordered pass over the
 * bucket's latest values (every partition of this process reuses it for a
 * while), each value only parsed when it holds the Pending mark.
 */
function pendingKeys(res: HubResources): Promise<Map<number, string[]>> {
  const cached = listings.get(res);
  const reuseMs = Math.min(LISTING_REUSE_MS, res.options.pendingScanIntervalMs / 2);
  if (cached && Date.now() - cached.at < reuseMs) return cached.keys;
  const keys = listPendingKeys(res);
  listings.set(res, { at: Date.now(), keys });
  keys.catch(() => listings.delete(res));
  return keys;
}

async function listPendingKeys(res: HubResources): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  // A watch of a key filter that matches nothing would wait for its first update: look first.
  const probe = await res.instances.keys('*');
  let any = false;
  for await (const _key of probe) {
    any = true;
    break;
  }
  probe.stop();
  if (!any) return out;
  const watch = await res.instances.watch({ key: '*' });
  const timer = setTimeout(() => watch.stop(), LISTING_TIMEOUT_MS);
  try {
    for await (const e of watch) {
      if (e.operation === 'PUT' && e.value.length > 0 &&
        Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength)
          .includes(PENDING_MARK)) {
        let instanceId: string;
        try {
          instanceId = decodeInstanceId(e.key);
        } catch {
          instanceId = '';
        }
        if (instanceId) {
          const p = res.names.partitionOf(instanceId);
          const list = out.get(p);
          if (list) list.push(e.key);
          else out.set(p, [e.key]);
        }
      }
      // The last value of the initial listing (the watch marks it as the first update).
      if (e.delta === 0 || e.isUpdate) break;
    }
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
  return out;
}

/** Rebuilds the start message of a Pending execution from its record. */
export function startMessageFromRecord(rec: InstanceRecord): TaskMessage {
  const { instanceId, executionId } = rec.orchestrationInstance;
  return taskMessage({
    type: 'ExecutionStarted',
    eventId: -1,
    timestamp: rec.createdTime,
    orchestrationInstance: { instanceId, executionId },
    name: rec.name,
    version: rec.version,
    ...(rec.input !== undefined ? { input: rec.input } : {}),
    ...(rec.tags ? { tags: rec.tags } : {}),
    ...(rec.parentInstance ? { parentInstance: rec.parentInstance } : {}),
    ...(rec.scheduledStartTime ? { scheduledStartTime: rec.scheduledStartTime } : {}),
    ...(rec.generation !== undefined ? { generation: rec.generation } : {}),
  }, { instanceId, executionId });
}

/**
 * Repairs Pending records of one owned partition whose creator died between
 * writing the record and sending the start (design 9.12): on takeover and
 * then every `pendingScanIntervalMs`, the owner reads the records of its
 * partition and sends each Pending execution's start again (its
 * deterministic id makes an earlier send within the window a duplicate; a
 * start that arrives twice is dropped as the current execution's), or puts
 * back the timer entry of a start scheduled later.
 */
export class PendingStartScan {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly res: HubResources,
    private readonly partition: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    // Spread out: a worker taking many partitions at once does not list the records for
    // all of them at the same moment.
    const interval = this.res.options.pendingScanIntervalMs;
    this.schedule(Math.floor(Math.random() * Math.min(interval, FIRST_SCAN_SPREAD_MS)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.scan().then(() => undefined,
        (err: unknown) => backgroundError(this.log, 'pending start scan', err))
        .finally(() => this.schedule(this.res.options.pendingScanIntervalMs));
    }, delayMs);
    this.timer.unref();
  }

  /** One bounded pass over the latest records of this partition. Returns the repairs made. */
  async scan(): Promise<number> {
    const { res } = this;
    // One listing of the latest records (values included) serves every partition this
    // process owns for a while: no key listing and no read per record in each partition.
    const keys = (await pendingKeys(res)).get(this.partition) ?? [];
    if (this.stopped) return 0;
    let repaired = 0;
    for (const key of keys) {
      if (this.stopped || repaired >= MAX_REPAIRS_PER_SCAN) break;
      const entry = await res.instances.get(key);
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) continue;
      const rec = decodeJson<InstanceRecord>(entry.value, 'instance record');
      if (rec.orchestrationStatus !== 'Pending') continue;
      if (Date.now() - Date.parse(rec.createdTime) < MIN_AGE_MS) continue;
      if (await this.repair(key, rec)) repaired++;
    }
    return repaired;
  }

  private async repair(token: string, rec: InstanceRecord): Promise<boolean> {
    const { res } = this;
    const { instanceId, executionId } = rec.orchestrationInstance;
    const subject = res.names.orchSubject(this.partition, token);
    const id = res.names.startMessageId(token, executionId);
    const start = toWireMessage(startMessageFromRecord(rec));
    const at = rec.scheduledStartTime ? Date.parse(rec.scheduledStartTime) : 0;
    if (at > res.options.clock.now()) {
      const key = res.names.timerKey(this.partition, token, executionId, 'start');
      if ((await res.timers.get(key))?.operation === 'PUT') return false;
      const timer: TimerEntry = { subject, id, fireAt: rec.scheduledStartTime as string,
        msg: start };
      await res.timers.put(key, encodeJson(timer));
    } else {
      // Messages queued for the instance (its start among them, or a lock that re-sends it
      // when they find none) mean nothing is lost: only an empty queue needs the start.
      const queued = await res.jsm.streams.getMessage(res.names.orchStream,
        { last_by_subj: subject });
      if (queued) return false;
      await res.js.publish(subject, encodeJson(start), { msgID: id });
    }
    startResent(this.log, instanceId, executionId);
    return true;
  }
}
