import { after, it } from 'node:test';
import type { TestContext } from 'node:test';
import type { Logger } from 'pino';
import type { Backend } from '../../src/core/backend.ts';
import type { DedupeRule } from '../../src/core/orchestration-service-client.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import type { MemoryBackendOptions, MemoryFaults } from '../../src/memory/index.ts';
import type { NatsBackendOptions } from '../../src/nats/index.ts';
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
  /** Fault hooks; only those in the fixture's `faultHooks` may be given. */
  readonly faults?: FixtureFaults;
  /**
   * Backend-specific extras (fault hooks, clock, partitions), passed through
   * unchanged after the mapped options.
   */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export type BackendKind = 'memory' | 'nats';

/** Fault-injection hooks a conformance case may ask for (the memory backend's names). */
export type FixtureFaults = MemoryFaults;
export type FaultHook = keyof FixtureFaults;

export interface BackendFixture {
  readonly kind: BackendKind;
  /** Why this backend cannot run here (not built yet), or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** Creates a backend (not provisioned, not started). Throws when `unavailable()`. */
  create(opts?: FixtureOptions): Promise<Backend>;
  /**
   * Another backend on the same hub as `of`, as a second process would have
   * (memory: sharing its store; NATS: its own connection). Same options.
   */
  createPeer(of: Backend, opts?: FixtureOptions): Promise<Backend>;
  /** Fault hooks this backend offers as options. */
  readonly faultHooks: readonly FaultHook[];
}

/** True when `fixture` offers every hook in `hooks`; cases without them are todo. */
export function hasFaultHooks(fixture: BackendFixture, ...hooks: FaultHook[]): boolean {
  return hooks.every((h) => fixture.faultHooks.includes(h));
}

/** Registers a case that needs fault hooks, or a todo naming the hooks the backend lacks. */
export function itWithHooks(
  fixture: BackendFixture,
  hooks: FaultHook[],
  name: string,
  fn: (t: TestContext) => Promise<void>,
): void {
  if (hasFaultHooks(fixture, ...hooks)) {
    it(name, fn);
    return;
  }
  const missing = hooks.filter((h) => !fixture.faultHooks.includes(h));
  it.todo(`${name} (the ${fixture.kind} backend has no fault hook: ${missing.join(', ')})`);
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
    faultHooks: [
      'failCheckpoints',
      'failActivityCompletions',
      'failOrchestrationRenewals',
      'failActivityRenewals',
      'beforeCheckpoint',
      'beforeActivityCompletion',
    ],
    async create(opts = {}) {
      const f = await load();
      if ('missing' in f) throw new Error(`memory backend not built yet: ${f.missing}`);
      const options: MemoryBackendOptions = {
        hub: opts.hub ?? uniqueHubName('m'),
        logger: opts.logger ?? silentLogger(),
        ...defined({
          orchestrationLockMs: opts.orchestrationLockMs,
          activityLockMs: opts.activityLockMs,
          maxMessagesPerCheckpoint: opts.maxMessagesPerCheckpoint,
          dedupeRule: opts.dedupeRule,
          faults: opts.faults,
        }),
      };
      return f.value({ ...options, ...opts.extra });
    },
    async createPeer(of, opts = {}) {
      return this.create({ ...opts, extra: { ...opts.extra, shareStoreWith: of } });
    },
  };
}

/** Lease used by NATS fixtures unless a test asks for another: short, so hubs start fast. */
export const NATS_TEST_LEASE_MS = 3_000;
/** Fewer partitions than the default 16: less consumer traffic on a 2-core CI box. */
export const NATS_TEST_PARTITIONS = 4;

function natsFixture(): BackendFixture {
  let factory: Promise<{ value: Factory } | { missing: string }> | undefined;
  const load = () => (factory ??= probeExport<Factory>(NATS_CANDIDATES, 'createNatsBackend'));
  return {
    kind: 'nats',
    async unavailable() {
      const f = await load();
      return 'missing' in f ? `nats backend not built yet: ${f.missing}` : undefined;
    },
    faultHooks: [
      'failCheckpoints',
      'failActivityCompletions',
      'failOrchestrationRenewals',
      'failActivityRenewals',
      'beforeCheckpoint',
      'beforeActivityCompletion',
    ],
    async create(opts = {}) {
      const f = await load();
      if ('missing' in f) throw new Error(`nats backend not built yet: ${f.missing}`);
      const options: NatsBackendOptions = {
        servers: await sharedNatsUrl(),
        hub: opts.hub ?? uniqueHubName('n'),
        logger: opts.logger ?? silentLogger(),
        leaseMs: opts.orchestrationLockMs ?? NATS_TEST_LEASE_MS,
        partitions: NATS_TEST_PARTITIONS,
        ...defined({
          activityLockMs: opts.activityLockMs,
          maxMessagesPerCheckpoint: opts.maxMessagesPerCheckpoint,
          dedupeRule: opts.dedupeRule,
          faults: opts.faults,
        }),
      };
      return f.value({ ...options, ...opts.extra });
    },
    async createPeer(_of, opts = {}) {
      return this.create(opts);
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
