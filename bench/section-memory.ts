import { fork, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { silentLogger } from '../src/logging/logger.ts';
import { createNatsBackend } from '../src/nats/index.ts';
import { HubNames } from '../src/nats/names.ts';
import { TaskHubClient } from '../src/runtime/index.ts';
import { DEFAULT_PARTITIONS, newHubName } from './bench-hub.ts';
import type { BenchContext } from './context.ts';
import { checkOutput, WAIT_TIMEOUT_MS } from './workloads.ts';
import { openServer, processRssMb } from './server.ts';
import { round } from './stats.ts';

const CREATE_CONCURRENCY = 200;
/** Instances released at the end to check that waiting instances still complete. */
const RELEASED = 100;
const CHILD_REPLY_MS = 30_000;
/** Quiet time after the last instance reached its wait, before the steady-state reading. */
const SETTLE_MS = 5_000;
const STOP_WAIT_MS = 10_000;

interface RssReply {
  /** Before the forced collections: what `ps` shows. */
  readonly rssNoGc: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly owned: number;
}

/**
 * Worker RSS with `waiting` instances waiting on an external event. The worker
 * runs alone in a child process; this process creates the instances.
 */
export async function memorySection(ctx: BenchContext): Promise<void> {
  const count = ctx.args.waiting;
  const server = await openServer(ctx.args.natsUrl);
  const hub = newHubName('mem');
  const nc = await connect({ servers: server.url, name: `bench-${hub}`, noAsyncTraces: true });
  const backend = await createNatsBackend({ connection: nc, hub, logger: silentLogger() });
  let child: ChildProcess | undefined;
  let bundled: string | undefined;
  try {
    await backend.service.create({ recreateInstanceStore: true });
    const client = new TaskHubClient({ backend });
    // The worker runs as plain JavaScript, as a deployed worker does: bundled here (esbuild,
    // which tsx brings), or BENCH_MEMORY_WORKER_JS names a prebuilt bundle. The TypeScript
    // loader alone adds ~35-40 MB; BENCH_MEMORY_WORKER_TSX=1 measures with it.
    bundled = process.env['BENCH_MEMORY_WORKER_JS'] ? undefined : await bundleWorker(ctx);
    const prebuilt = process.env['BENCH_MEMORY_WORKER_JS'] ?? bundled;
    child = fork(prebuilt ?? join(benchDir(), 'memory-worker.ts'), [], {
      execArgv: prebuilt ? ['--expose-gc'] : ['--expose-gc', '--import', 'tsx'],
      env: { ...process.env, BENCH_NATS_URL: server.url, BENCH_HUB: hub,
        BENCH_BACKEND_OPTIONS: JSON.stringify(ctx.args.backendOptions),
        BENCH_WORKER_OPTIONS: JSON.stringify(ctx.args.workerOptions) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    await reply(child, undefined, 'ready');
    const idle = await reply<RssReply>(child, { cmd: 'rss' }, 'rss');
    ctx.note(`memory: idle worker rss ${round(idle.rss, 1)} MB (pid ${child.pid})`);

    const t0 = performance.now();
    let next = 0;
    const prefix = `wait-${Date.now().toString(36)}`;
    const slot = async (): Promise<void> => {
      // Bounded: each turn takes a distinct index below count.
      for (;;) {
        const i = next++;
        if (i >= count) return;
        await client.createOrchestrationInstance('BenchWaitForGo',
          { instanceId: `${prefix}-${i}` });
      }
    };
    await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, slot));
    const createdMs = performance.now() - t0;
    const partitions = ctx.args.backendOptions['partitions'];
    const names = new HubNames(hub, typeof partitions === 'number' ? partitions
      : DEFAULT_PARTITIONS);
    const runningMs = await waitForFirstCommits(nc, names, count, ctx);
    const atOnce = await reply<RssReply>(child, { cmd: 'rss', gc: false }, 'rss');
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const loaded = await reply<RssReply>(child, { cmd: 'rss' }, 'rss');
    const serverRss = processRssMb(server.pid);
    ctx.note(`memory: ${count} waiting -> worker rss ${round(atOnce.rssNoGc, 1)} MB at once, ` +
      `${round(loaded.rssNoGc, 1)} MB after ${SETTLE_MS / 1000} s, ${round(loaded.rss, 1)} MB ` +
      `after forced GCs; heap used ` +
      `${round(loaded.heapUsed, 1)} of ${round(loaded.heapTotal, 1)} MB (created in ` +
      `${round(createdMs / 1000, 1)} s, all waiting after ${round(runningMs / 1000, 1)} s); ` +
      `nats-server rss ${round(serverRss, 1)} MB`);

    const released = Math.min(RELEASED, count);
    const errors = await release(client, prefix, released);
    ctx.emit({
      test: 'memory', measure: 'rss_10k_waiting', waiting: count,
      worker_js: prebuilt ? 'bundled JavaScript, no tsx' : 'TypeScript through tsx',
      rss_mb: round(loaded.rssNoGc, 1),
      rss_after_gc_mb: round(loaded.rss, 1),
      rss_at_once_mb: round(atOnce.rssNoGc, 1),
      idle_rss_mb: round(idle.rssNoGc, 1),
      idle_heap_used_mb: round(idle.heapUsed, 1),
      heap_used_mb: round(loaded.heapUsed, 1),
      heap_total_mb: round(loaded.heapTotal, 1),
      external_mb: round(loaded.external, 1),
      retained_per_instance_kb: round(((loaded.heapUsed - idle.heapUsed) * 1024) / count, 2),
      server_rss_mb: round(serverRss, 1),
      seconds_to_all_waiting: round(runningMs / 1000, 1),
      released_checked: released, errors,
    });
  } finally {
    if (child) await stopChild(child);
    if (bundled) await rm(bundled, { force: true }).catch(() => undefined);
    await backend.close().catch(() => undefined);
    await nc.drain().catch(() => nc.close());
    await server.stop();
  }
}

/** Waits (bounded) until every instance made its first commit, i.e. waits for its event. */
async function waitForFirstCommits(nc: Parameters<typeof jetstreamManager>[0], names: HubNames,
  count: number, ctx: BenchContext): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const t0 = performance.now();
  const deadline = t0 + Math.max(60_000, Math.min(ctx.budgetLeftMs(), 300_000));
  for (let i = 0; i < 10_000 && performance.now() < deadline; i++) {
    const info = await jsm.streams.info(names.histStream);
    if (info.state.messages >= count) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Not all ${count} instances reached their wait within the deadline.`);
}

/** Raises the event on the first `k` instances and checks they complete with its data. */
async function release(client: TaskHubClient, prefix: string, k: number): Promise<number> {
  const ids = Array.from({ length: k }, (_v, i) => `${prefix}-${i}`);
  await Promise.all(ids.map((id) => client.raiseEvent(id, 'Go', { id })));
  const states = await Promise.all(ids.map((id) =>
    client.waitForOrchestration(id, { timeoutMs: WAIT_TIMEOUT_MS })));
  return states.filter((s, i) => checkOutput(s, JSON.stringify({ id: ids[i] })) !== null).length;
}

function reply<T>(child: ChildProcess, message: unknown, key: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`memory worker: no '${key}' reply`)),
      CHILD_REPLY_MS);
    const onMessage = (m: Record<string, unknown>): void => {
      if (key in m) done(undefined, m as T);
    };
    const onExit = (code: number | null): void => done(new Error(`memory worker exited (${code})`));
    function done(err?: Error, value?: T): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (message !== undefined) child.send(message as object);
  });
}

/** Asks the worker to stop; ends it by its PID when it does not exit in time. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), STOP_WAIT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  try {
    child.send({ cmd: 'stop' });
  } catch {
    // The channel may already be closed.
  }
  if (!(await exited) && child.pid !== undefined) {
    process.kill(child.pid, 'SIGKILL');
  }
}

/** This directory (a bundled bench, `--js`, names it in DT_BENCH_DIR). */
function benchDir(): string {
  return process.env['DT_BENCH_DIR'] ?? dirname(fileURLToPath(import.meta.url));
}

/** Bundles memory-worker.ts into one .mjs file (undefined: run it through tsx instead). */
async function bundleWorker(ctx: BenchContext): Promise<string | undefined> {
  if (process.env['BENCH_MEMORY_WORKER_TSX'] === '1') return undefined;
  const outfile = join(tmpdir(), `dt-bench-memory-worker-${process.pid}.mjs`);
  try {
    const esbuild = (await import('esbuild' as string)) as {
      build(options: Record<string, unknown>): Promise<unknown>;
    };
    await esbuild.build({
      entryPoints: [join(benchDir(), 'memory-worker.ts')],
      bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'silent',
      banner: { js: "import { createRequire as __cr } from 'node:module'; " +
        'const require = __cr(import.meta.url);' },
    });
    return outfile;
  } catch (err) {
    ctx.note(`memory: could not bundle the worker (${(err as Error).message}); using tsx`);
    return undefined;
  }
}
