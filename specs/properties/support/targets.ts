import type { Backend } from '../../../src/core/backend.ts';
import { createMemoryBackend, type MemoryBackend } from '../../../src/memory/index.ts';
import type { MemoryBackendOptions } from '../../../src/memory/memory-options.ts';
import {
  createNatsBackend,
  type NatsBackend,
  type NatsBackendOptions,
} from '../../../src/nats/index.ts';
import type { ConformanceTarget } from '../../../src/testing/conformance-target.ts';
import { ManualClock } from '../../../src/testing/manual-clock.ts';
import { uniqueHubName } from '../../support/nats-server.ts';

/**
 * The kit does not model dead-lettering: the poison limit is set far above the
 * deliveries one run can make, so a message is never dead-lettered mid-run.
 */
const POISON_OFF = 10_000;

/** Lock lengths of the memory runs (on a simulated clock, so any length is free). */
export const MEMORY_LOCK_MS = 10_000;

/**
 * The memory backend as a conformance target: a simulated clock, two workers
 * sharing one hub, crashes as forced stops (their locks end at once) and
 * checkpoint faults through `faults.failCheckpoints`.
 */
export function memoryTarget(extra: Partial<MemoryBackendOptions> = {}): ConformanceTarget {
  return {
    clock: () => new ManualClock(),
    orchestrationLockMs: MEMORY_LOCK_MS,
    activityLockMs: MEMORY_LOCK_MS,
    workers: 2,
    createBackend: ({ clock, run }) =>
      createMemoryBackend({
        clock,
        hub: `props${run}`,
        orchestrationLockMs: MEMORY_LOCK_MS,
        activityLockMs: MEMORY_LOCK_MS,
        abandonBackoffMs: 100,
        maxDeliveries: POISON_OFF,
        maxAbandonBackoffMs: 1_000,
        ...extra,
      }),
    createPeer: (of) => createMemoryBackend({ shareStoreWith: of as MemoryBackend }),
    crash: (b) => b.service.stop({ forced: true }),
    failNextCheckpoint: (b) => {
      (b as MemoryBackend).faults.failCheckpoints = 1;
    },
    clearFaults: (b) => {
      (b as MemoryBackend).faults.failCheckpoints = 0;
    },
    semantics: { crashReleasesLocks: true },
  };
}

/** Lease and activity lock of the NATS runs: short, so lapses take about a second. */
export const NATS_LEASE_MS = 1_500;

/**
 * The NATS backend as a conformance target on real time: one partition and
 * two workers (an owner and a standby that takes over when the owner
 * stalls), crashes as forced stops (held work goes back at once), stalls as
 * paused lease renewal, a JetStream activity completion that publishes then
 * acks (design 9.16), and no Pending record for a child before its first
 * checkpoint. Checkpoint faults use the backend's `faults.failCheckpoints`.
 */
export function natsTarget(
  url: () => string,
  extra: Partial<NatsBackendOptions> = {},
): ConformanceTarget {
  const paused = new WeakMap<Backend, { value: boolean }>();
  const make = async (hub: string): Promise<NatsBackend> => {
    const flag = { value: false };
    const b = await createNatsBackend({
      servers: url(),
      hub,
      partitions: 1,
      leaseMs: NATS_LEASE_MS,
      activityLockMs: NATS_LEASE_MS,
      maxDeliveries: POISON_OFF,
      faults: { pauseLeases: () => flag.value },
      ...extra,
    });
    paused.set(b, flag);
    return b;
  };
  const setPaused = (b: Backend, value: boolean): void => {
    const flag = paused.get(b);
    if (flag) flag.value = value;
  };
  return {
    orchestrationLockMs: NATS_LEASE_MS,
    activityLockMs: NATS_LEASE_MS,
    workers: 2,
    receiveTimeoutMs: 600,
    idleReceiveTimeoutMs: 100,
    drainTimeoutMs: 45_000,
    createBackend: () => make(uniqueHubName('pk')),
    createPeer: (of) => make((of as NatsBackend).hub),
    pause: (b) => setPaused(b, true),
    failNextCheckpoint: (b) => {
      (b as NatsBackend).faults.failCheckpoints = 1;
    },
    clearFaults: (b) => {
      setPaused(b, false);
      (b as NatsBackend).faults.failCheckpoints = 0;
    },
    semantics: {
      crashReleasesLocks: true,
      atomicActivityCompletion: false,
      pendingRecordForChildren: false,
    },
  };
}
