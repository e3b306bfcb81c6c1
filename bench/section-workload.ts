import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readGoProfile, summariseGoProfile } from './pprof.ts';
import { monitor, openServer, serverCpuProfile, type BenchServer } from './server.ts';
import { openHub, waitForPartitions, type BenchHub } from './bench-hub.ts';
import { overrides, type BenchContext } from './context.ts';
import { Instrument } from './instrument.ts';
import {
  latencyRun, repeatUntilQuiet, runPrefix, throughputRun, type ThroughputRun,
} from './measure.ts';
import { perInstance, total } from './op-counter.ts';
import { runPool } from './pool.ts';
import { RunProfiler } from './profiler.ts';
import { summarise, type CpuProfile } from './profile-summary.ts';
import { round, spread } from './stats.ts';
import { WORKLOADS, type Workload } from './workloads.ts';

/** Length of the server's CPU profile in `--profile` runs. */
const SERVER_PROFILE_SECONDS = 8;
/** Extra attempts allowed per figure when runs are noisy. */
const EXTRA_ATTEMPTS = 2;

/** Throughput and latency of one workload on a fresh server and hub. */
export async function workloadSection(ctx: BenchContext, name: Workload['name'],
  tests: { throughput: boolean; latency: boolean }): Promise<void> {
  const w = WORKLOADS[name];
  const server = await openServer(ctx.args.natsUrl);
  let hub: BenchHub | undefined;
  try {
    hub = await openHub(server, name, { ...overrides(ctx), countOps: true });
    await waitForPartitions(hub);
    const { args } = ctx;
    ctx.note(`${name}: warm-up ${args.warmup} instances`);
    const warm = await runPool(hub.client, w, args.warmup, args.concurrency, runPrefix('warm'));
    const warmErrors = warm.results.filter((r) => r.error !== null);
    if (warmErrors.length > 0) {
      ctx.note(`${name}: ${warmErrors.length} warm-up errors, first: ${warmErrors[0]?.error}`);
    }
    if (tests.throughput) {
      for (const n of args.counts) await throughput(ctx, hub, server, w, n);
      await countOps(ctx, hub, server, w, Math.min(200, Math.max(...args.counts)));
      if (ctx.profileDir) {
        await profile(ctx, hub, server, w, Math.max(...args.counts), ctx.profileDir);
      }
    }
    if (tests.latency) await latency(ctx, hub, server, w);
  } finally {
    await hub?.close();
    await server.stop();
  }
}

function cpuFigures(runs: readonly ThroughputRun[]): Record<string, unknown> {
  return {
    node_ms_per_instance: spread(runs.map((r) => r.nodeCpuMsPerInstance), 3).median,
    server_ms_per_instance: spread(runs.map((r) => r.serverCpuMsPerInstance), 3).median,
    node_pct: spread(runs.map((r) => r.cpu.node_pct), 0).median,
    server_pct: spread(runs.map((r) => r.cpu.server_pct), 0).median,
    foreign_pct: runs.map((r) => r.cpu.foreign_pct),
    elu: spread(runs.map((r) => r.cpu.elu)).median,
    load_1m: runs.map((r) => r.cpu.load_1m),
  };
}

async function throughput(ctx: BenchContext, hub: BenchHub, server: BenchServer, w: Workload,
  n: number): Promise<void> {
  const { args } = ctx;
  const { kept, attempts } = await repeatUntilQuiet(args.runs, args.runs + EXTRA_ATTEMPTS,
    async () => {
      const r = await throughputRun(hub.client, w, n, args.concurrency, server.pid);
      ctx.note(`${w.name} n=${n}: ${r.instancesPerSec}/s p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms ` +
        `errors ${r.errors} cpu node ${r.cpu.node_pct}% server ${r.cpu.server_pct}% ` +
        `others ${r.cpu.foreign_pct}%${r.noisy ? ' (noisy)' : ''}`);
      return r;
    }, () => ctx.withinBudget());
  const sample = kept.find((r) => r.errorSample)?.errorSample;
  ctx.emit({
    test: 'throughput', workload: w.name, n, concurrency: args.concurrency,
    instances_per_sec: spread(kept.map((r) => r.instancesPerSec), 1),
    steps_per_sec: spread(kept.map((r) => r.stepsPerSec), 1),
    p50_ms: spread(kept.map((r) => r.p50Ms)),
    p99_ms: spread(kept.map((r) => r.p99Ms)),
    errors: kept.reduce((a, r) => a + r.errors, 0),
    runs: kept.length, attempts, noisy: kept.some((r) => r.noisy),
    cpu: cpuFigures(kept),
    ...(sample ? { error_sample: sample } : {}),
  });
}

async function latency(ctx: BenchContext, hub: BenchHub, server: BenchServer, w: Workload):
  Promise<void> {
  const { args } = ctx;
  const { kept, attempts } = await repeatUntilQuiet(args.runs, args.runs + EXTRA_ATTEMPTS,
    async () => {
      const r = await latencyRun(hub.client, w, args.latencyN, server.pid);
      ctx.note(`${w.name} one at a time: median ${r.medianMs} ms p99 ${r.p99Ms} ms ` +
        `errors ${r.errors} others ${r.cpu.foreign_pct}%${r.noisy ? ' (noisy)' : ''}`);
      return r;
    }, () => ctx.withinBudget());
  const sample = kept.find((r) => r.errorSample)?.errorSample;
  ctx.emit({
    test: 'latency', workload: w.name, n: args.latencyN,
    median_latency_ms: spread(kept.map((r) => r.medianMs), 3),
    p99_ms: spread(kept.map((r) => r.p99Ms), 3),
    errors: kept.reduce((a, r) => a + r.errors, 0),
    runs: kept.length, attempts, noisy: kept.some((r) => r.noisy),
    cpu: {
      node_pct: spread(kept.map((r) => r.cpu.node_pct), 0).median,
      server_pct: spread(kept.map((r) => r.cpu.server_pct), 0).median,
      foreign_pct: kept.map((r) => r.cpu.foreign_pct),
      load_1m: kept.map((r) => r.cpu.load_1m),
    },
    ...(sample ? { error_sample: sample } : {}),
  });
}

interface Varz {
  readonly in_msgs?: number;
  readonly out_msgs?: number;
  readonly in_bytes?: number;
  readonly out_bytes?: number;
}

/**
 * One extra, untimed run with the operation counter on: protocol operations
 * per instance as the client sent and received them, and the server's message
 * counters (from /varz) as a cross-check.
 */
async function countOps(ctx: BenchContext, hub: BenchHub, server: BenchServer, w: Workload,
  n: number): Promise<void> {
  if (!ctx.args.countOps || !ctx.withinBudget()) return;
  const v0 = await monitor(server, '/varz') as Varz | undefined;
  // Wrapped only for this run: the wrappers cost the timed runs 5-10 % CPU.
  hub.ops.install(hub.nc);
  const before = hub.ops.snapshot();
  hub.ops.enabled = true;
  const run = await runPool(hub.client, w, n, ctx.args.concurrency, runPrefix(`${w.name}-ops`));
  hub.ops.enabled = false;
  hub.ops.uninstall();
  const after = hub.ops.snapshot();
  const v1 = await monitor(server, '/varz') as Varz | undefined;
  const out = perInstance(before.out, after.out, n);
  const writes = out['socket-write'] ?? 0;
  delete out['socket-write'];
  const inbound = perInstance(before.in, after.in, n);
  const serverMsgs = v0 && v1 ? {
    in: round(((v1.in_msgs ?? 0) - (v0.in_msgs ?? 0)) / n, 1),
    out: round(((v1.out_msgs ?? 0) - (v0.out_msgs ?? 0)) / n, 1),
    in_bytes: round(((v1.in_bytes ?? 0) - (v0.in_bytes ?? 0)) / n, 0),
    out_bytes: round(((v1.out_bytes ?? 0) - (v0.out_bytes ?? 0)) / n, 0),
  } : undefined;
  ctx.emit({
    test: 'ops', workload: w.name, n, concurrency: ctx.args.concurrency,
    errors: run.results.filter((r) => r.error !== null).length,
    client_out_per_instance: round(total(out), 1), client_in_per_instance: round(total(inbound), 1),
    socket_writes_per_instance: writes,
    out: out, in: inbound,
    ...(serverMsgs ? { server_msgs_per_instance: serverMsgs } : {}),
  });
}

/**
 * Profiling (`--profile DIR`): one run under the CPU profiler, then one with
 * the backend's and client's stages timed; summaries on stderr, files in DIR.
 */
async function profile(ctx: BenchContext, hub: BenchHub, server: BenchServer, w: Workload,
  n: number, dir: string): Promise<void> {
  if (!ctx.withinBudget()) return;
  const profiler = new RunProfiler(dir);
  await profiler.start();
  // The server is profiled over the same stretch: instances run until its profile returns.
  let serverDone = false;
  const serverProfile = serverCpuProfile(server, SERVER_PROFILE_SECONDS)
    .finally(() => { serverDone = true; });
  const t0 = performance.now();
  let ran = 0;
  for (let i = 0; i < 100 && (i === 0 || !serverDone); i++) {
    await runPool(hub.client, w, n, ctx.args.concurrency, runPrefix(`${w.name}-prof`));
    ran += n;
  }
  const wallMs = performance.now() - t0;
  const { path, profile: p } = await profiler.stop(`${w.name}-n${n}`);
  ctx.note(`\n== CPU profile of this process, ${w.name} (${round((ran * 1000) / wallMs, 0)}/s ` +
    `under the profiler) -> ${path}\n${summarise(p as CpuProfile, 30)}\n`);
  const gz = await serverProfile;
  if (gz) {
    const path2 = join(dir, `${w.name}-server.pprof.gz`);
    writeFileSync(path2, gz);
    ctx.note(`== CPU profile of nats-server over ${SERVER_PROFILE_SECONDS} s -> ${path2}\n` +
      `${summariseGoProfile(readGoProfile(gz), 30)}\n`);
  }

  const ins = instrumentHub(hub);
  try {
    const t1 = performance.now();
    await runPool(hub.client, w, n, ctx.args.concurrency, runPrefix(`${w.name}-stages`));
    const ms = performance.now() - t1;
    const rows = ins.report(n);
    ctx.note(`== stages ${w.name} n=${n} (${round((n * 1000) / ms, 0)}/s instrumented)`);
    ctx.note(formatRows(rows));
    ctx.emit({ test: 'stages', workload: w.name, n, concurrency: ctx.args.concurrency,
      stages: rows });
  } finally {
    ins.restore();
  }
}

/**
 * Times the backend's and client's stages. Reaches into private members of
 * the NATS backend on purpose (profiling only): the names are checked, so a
 * rename fails loudly here instead of measuring nothing.
 */
export function instrumentHub(hub: BenchHub): Instrument {
  const ins = new Instrument();
  const svc = hub.backend.service as unknown as Record<string, unknown>;
  const engine = svc['engine'] as Record<string, unknown>;
  const activities = svc['activities'] as Record<string, unknown>;
  ins.wrap(svc, 'lockNextOrchestrationWorkItem', 'service.lockNextOrchestrationWorkItem');
  ins.wrap(svc, 'completeOrchestrationWorkItem', 'service.completeOrchestrationWorkItem');
  ins.wrap(svc, 'releaseOrchestrationWorkItem', 'service.releaseOrchestrationWorkItem');
  ins.wrap(svc, 'lockNextActivityWorkItem', 'service.lockNextActivityWorkItem');
  ins.wrap(svc, 'completeActivityWorkItem', 'service.completeActivityWorkItem');
  ins.wrap(engine, 'tryLock', 'engine.tryLock (serial in the lock loop)');
  ins.wrap(engine, 'viewOf', 'engine.viewOf');
  ins.wrap(engine['commitLog'] as object, 'loadCurrent', 'commitLog.loadCurrent');
  ins.wrap(engine['commitLog'] as object, 'publish', 'commitLog.publish (CAS commit)');
  ins.wrap(engine, 'writeRecords', 'engine.writeRecords');
  ins.wrap(engine['store'] as object, 'read', 'instanceStore.read (engine + client)');
  ins.wrap(engine, 'resend', 'engine.resend (takeover relay)');
  ins.wrap(activities, 'publishResult', 'activities.publishResult');
  ins.wrap(hub.backend.client, 'createOrchestration', 'client.createOrchestration');
  ins.wrap(hub.backend.client, 'waitForOrchestration', 'client.waitForOrchestration');
  return ins;
}

export function formatRows(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)';
  const cols = Object.keys(rows[0] as object);
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? '')));
  const widths = cols.map((c, i) =>
    Math.max(c.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (vals: readonly string[]): string =>
    vals.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(cols), ...cells.map(line)].join('\n');
}
