import { after } from 'node:test';
import type { TestContext } from 'node:test';
import type { Logger } from 'pino';
import type { Backend } from '../../src/core/backend.ts';
import type { DedupeRule } from '../../src/core/orchestration-service-client.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import { probeExport } from './module-probe.ts';
import { sharedNatsUrl, stopSharedNatsServer } from './shared-nats.ts';

/** Backend-neutral options of a conformance fixture; each fixture maps them onto its backend. */
export interface FixtureOptions {
  /** Hub name; a fresh unique one per call when absent. */
  readonly hub?: string;
  /** Orchestration lock length (NATS: the partition lease, `leaseMs`). */
  readonly orchestrationLockMs?: number;
  readonly activityLockMs?: number;
  readonly maxMessagesPerCheckpoint?: number;
  readonly dedupeRule?: DedupeRule;
  readonly logger?: Logger;
  /**
   * Backend-specific extras (fault hooks, clock, partitions), passed through
   * unchanged after the mapped options.
   */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export type BackendKind = 'memory' | 'nats';

export interface BackendFixture {
  readonly kind: BackendKind;
  /** Why this backend cannot run here (not built yet), or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** Creates a backend (not provisioned, not started). Throws when `unavailable()`. */
  create(opts?: FixtureOptions): Promise<Backend>;
}

type Factory = (options: Record<string, unknown>) => Backend | Promise<Backend>;

const MEMORY_CANDIDATES = [
  '../../src/memory/index.ts',
  '../../src/memory/memory-backend.ts',
  '../../src/memory/create-memory-backend.ts',
];
const NATS_CANDIDATES = [
  '../../src/nats/index.ts',
  '../../src/nats/nats-backend.ts',
  '../../src/nats/create-nats-backend.ts',
];

let hubCounter = 0;

/** A hub name that is unique per test and valid (letters, digits, `_`, `-`, at most 32). */
export function uniqueHubName(prefix = 'c'): string {
  hubCounter += 1;
  const rand = Math.random().toString(36).slice(2, 8);
  return `${prefix}${process.pid % 100000}_${hubCounter}_${rand}`.slice(0, 32);
}

function defined(entries: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
}

function memoryFixture(): BackendFixture {
  let factory: Promise<{ value: Factory } | { missing: string }> | undefined;
  const load = () => (factory ??= probeExport<Factory>(MEMORY_CANDIDATES, 'createMemoryBackend'));
  return {
    kind: 'memory',
    async unavailable() {
      const f = await load();
      return 'missing' in f ? `memory backend not built yet: ${f.missing}` : undefined;
    },
    async create(opts = {}) {
      const f = await load();
      if ('missing' in f) throw new Error(`memory backend not built yet: ${f.missing}`);
      return f.value(defined({
        hub: opts.hub ?? uniqueHubName('m'),
        logger: opts.logger ?? silentLogger(),
        orchestrationLockMs: opts.orchestrationLockMs,
        activityLockMs: opts.activityLockMs,
        maxMessagesPerCheckpoint: opts.maxMessagesPerCheckpoint,
        dedupeRule: opts.dedupeRule,
        ...opts.extra,
      }));
    },
  };
}

/** Lease used by NATS fixtures unless a test asks for another: short, so hubs start fast. */
export const NATS_TEST_LEASE_MS = 3_000;

function natsFixture(): BackendFixture {
  let factory: Promise<{ value: Factory } | { missing: string }> | undefined;
  const load = () => (factory ??= probeExport<Factory>(NATS_CANDIDATES, 'createNatsBackend'));
  return {
    kind: 'nats',
    async unavailable() {
      const f = await load();
      return 'missing' in f ? `nats backend not built yet: ${f.missing}` : undefined;
    },
    async create(opts = {}) {
      const f = await load();
      if ('missing' in f) throw new Error(`nats backend not built yet: ${f.missing}`);
      const url = await sharedNatsUrl();
      return f.value(defined({
        servers: url,
        hub: opts.hub ?? uniqueHubName('n'),
        logger: opts.logger ?? silentLogger(),
        leaseMs: opts.orchestrationLockMs ?? NATS_TEST_LEASE_MS,
        activityLockMs: opts.activityLockMs,
        maxMessagesPerCheckpoint: opts.maxMessagesPerCheckpoint,
        dedupeRule: opts.dedupeRule,
        ...opts.extra,
      }));
    },
  };
}

let registered = false;

/**
 * The backends every conformance case runs against. Call it at the top level
 * of a spec file: it also registers the file-level hook that stops the shared
 * nats-server (started lazily by the first NATS test of the file).
 */
export function backendFixtures(): readonly BackendFixture[] {
  if (!registered) {
    registered = true;
    after(() => stopSharedNatsServer());
  }
  return [memoryFixture(), natsFixture()];
}

/**
 * Creates a backend for one test and closes it when the test ends. Returns
 * null after `t.skip()` when the fixture's backend is not built yet.
 */
export async function useBackend(
  t: TestContext,
  fixture: BackendFixture,
  opts: FixtureOptions = {},
): Promise<Backend | null> {
  const reason = await fixture.unavailable();
  if (reason !== undefined) {
    t.skip(reason);
    return null;
  }
  const backend = await fixture.create(opts);
  t.after(() => backend.close());
  return backend;
}
