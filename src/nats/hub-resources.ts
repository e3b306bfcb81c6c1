import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import { FaultInjector } from './fault-hooks.ts';
import { ConnectionMonitor } from './connection-monitor.ts';
import { backendError } from './nats-errors.ts';
import { storedPartitions } from './provisioning.ts';
import { HubNames } from './names.ts';
import type { ResolvedNatsOptions } from './options.ts';
import { PayloadStore } from './payload-store.ts';
import { closeRequestMux } from './request-mux.ts';

/** Largest commit body kept inline in the commit message (design 9.8). */
const INLINE_COMMIT_LIMIT = 900 * 1024;
/** Room a message needs around an inline payload (envelope, headers). */
const MESSAGE_OVERHEAD = 64 * 1024;

/** An inline payload must fit in one message of this server, with room for its envelope. */
function checkPayloadLimit(limit: number, nc: NatsConnection): void {
  const maxPayload = nc.info?.max_payload;
  if (maxPayload === undefined || limit <= maxPayload - MESSAGE_OVERHEAD) return;
  throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT,
    `NATS backend option 'payloadLimitBytes' must be at most ${maxPayload - MESSAGE_OVERHEAD} ` +
    `on this server (max_payload ${maxPayload}), got ${limit}.`);
}

/**
 * The connection and every stream, bucket and store handle of one hub. KV
 * handles bind without a server round trip; `provisioning.ts` makes sure the
 * resources exist.
 */
export class HubResources {
  readonly names: HubNames;
  readonly leases: KV;
  readonly workers: KV;
  readonly instances: KV;
  readonly timers: KV;
  readonly meta: KV;
  readonly payloads: PayloadStore;
  /** Test fault hooks (`options.faults`) at their points. */
  readonly faults: FaultInjector;
  /** Commit bodies above this many bytes go to the object store. */
  readonly inlineCommitLimit: number;
  /** The connection's state (reconnecting while the server is away), with its log events. */
  readonly connection: ConnectionMonitor;
  private objectStore: Promise<ObjectStore> | undefined;

  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly js: JetStreamClient,
    readonly ownsConnection: boolean,
    readonly options: ResolvedNatsOptions,
    buckets: readonly KV[],
  ) {
    this.names = new HubNames(options.hub, options.partitions);
    [this.leases, this.workers, this.instances, this.timers, this.meta] = buckets as
      [KV, KV, KV, KV, KV];
    this.payloads = new PayloadStore(() => this.blobs(), options.payloadLimitBytes);
    this.faults = new FaultInjector(options.faults,
      options.logger.child({ hub: options.hub, backend: 'nats' }));
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    this.inlineCommitLimit = Math.min(INLINE_COMMIT_LIMIT, maxPayload - 64 * 1024);
    this.connection = new ConnectionMonitor(nc,
      options.logger.child({ hub: options.hub, backend: 'nats', component: 'connection' }));
  }

  static async open(options: ResolvedNatsOptions): Promise<HubResources> {
    const names = new HubNames(options.hub, options.partitions);
    let nc = options.connection;
    const owns = nc === undefined;
    try {
      // noAsyncTraces: the client would otherwise build an Error per request (a hot-path cost).
      // A server outage of any length is waited out: the client retries forever, a fixed
      // pause (with jitter) apart; only close() ends the connection.
      nc ??= await connect({ servers: options.servers, name: `durabletask-${options.hub}`,
        noAsyncTraces: true, maxReconnectAttempts: -1,
        reconnectTimeWait: options.reconnectWaitMs,
        reconnectJitter: Math.ceil(options.reconnectWaitMs / 10) });
      checkPayloadLimit(options.payloadLimitBytes, nc);
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      const kvm = new Kvm(js);
      // Binding is local (no request); provisioning makes sure the buckets exist.
      const buckets = await Promise.all([
        names.leasesBucket, names.workersBucket, names.instancesBucket, names.timersBucket,
      ].map((b) => kvm.open(b, { allow_direct: true })));
      // The metadata is read through the stream API: a missing hub is a clear
      // "stream not found" there, where a direct get only times out.
      const meta = await kvm.open(names.metaBucket, { allow_direct: false });
      buckets.push(meta);
      // Without an explicit partition count, an existing hub's count is adopted.
      const stored = options.partitionsGiven ? undefined : await storedPartitions(meta);
      const resolved = stored === undefined ? options : { ...options, partitions: stored };
      return new HubResources(nc, jsm, js, owns, resolved, buckets);
    } catch (err) {
      if (owns && nc) await nc.close().catch(() => undefined);
      if ((err as { code?: unknown } | null)?.code === 'ERR_INVALID_URL') {
        throw new DurableTaskError(ErrorCode.INVALID_ARGUMENT, 'NATS backend option ' +
          `'servers' must hold server URLs, got ${JSON.stringify(options.servers)}.`,
        { cause: err });
      }
      throw backendError(`Connecting to NATS at ${options.servers.join(', ')}`, err);
    }
  }

  /** The hub's object store (payloads and large commits), bound on first use. */
  blobs(): Promise<ObjectStore> {
    this.objectStore ??= new Objm(this.js).open(this.names.blobsBucket);
    return this.objectStore;
  }

  async close(): Promise<void> {
    this.connection.closingByBackend();
    closeRequestMux(this);
    if (this.ownsConnection && !this.nc.isClosed()) {
      await this.nc.drain().catch(() => this.nc.close());
    }
  }
}
