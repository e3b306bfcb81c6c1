import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { HubNames } from '../src/nats/names.ts';
import { openHub, waitForPartitions, type BenchHub } from './bench-hub.ts';
import { overrides, type BenchContext } from './context.ts';
import { fillFinished, skipRelayBacklog, readTemplate, type Template } from './fill.ts';
import { cpuMeter, NOISY_FOREIGN_PCT, type CpuReport } from './machine.ts';
import {
  repeatUntilQuiet, runPrefix, throughputRun, type ThroughputRun,
} from './measure.ts';
import { runPool } from './pool.ts';
import { summarise, type CpuProfile } from './profile-summary.ts';
import { RunProfiler } from './profiler.ts';
import { openServer, type BenchServer } from './server.ts';
import { median, round, spread } from './stats.ts';
import { runOne, WORKLOADS } from './workloads.ts';

/** Generous safety net for the long orchestration; never a speed assertion. */
const SEQUENTIAL_TIMEOUT_MS = 300_000;
const SEQUENTIAL_RUNS = 3;
/** Instances per hello measurement of the finished-instances comparison. */
const FINISHED_HELLO_N = 1000;

/** The two scaling measures, each on a fresh server and hub. */
export async function scalingSection(ctx: BenchContext): Promise<void> {
  await sequentialSteps(ctx);
  await finishedInstances(ctx);
}

interface SequentialRun {
  readonly first: number;
  readonly last: number;
  readonly ratio: number;
  readonly total: number;
  /** Least-squares growth of one step's time over the run, ms per 1000 steps. */
  readonly slope: number;
  readonly deciles: number[];
  readonly error: string | null;
  readonly cpu: CpuReport;
  readonly noisy: boolean;
}

/**
 * One orchestration of `steps` sequential activities: the time of the first
 * 100 steps against the last 100, from the moments each step's activity ran.
 */
async function sequentialSteps(ctx: BenchContext): Promise<void> {
  const steps = ctx.args.steps;
  const window = Math.min(100, Math.floor(steps / 4));
  const server = await openServer(ctx.args.natsUrl);
  const clock: { stamps: number[] } = { stamps: [] };
  let hub: BenchHub | undefined;
  try {
    hub = await openHub(server, 'seq', { ...overrides(ctx), countOps: false,
      onStep: (i) => { clock.stamps[i] = performance.now(); } });
    await waitForPartitions(hub);
    await runPool(hub.client, WORKLOADS.hello, 20, 10, runPrefix('warm'));
    const h = hub;
    const wanted = Math.min(SEQUENTIAL_RUNS, ctx.args.runs);
    const { kept: runs, attempts } = await repeatUntilQuiet(wanted, wanted + 2,
      async () => {
        const r = await sequentialRun(h, server, steps, window, clock);
        ctx.note(`sequential ${steps} steps: first ${window} ${r.first} ms, last ${window} ` +
          `${r.last} ms (x${round(r.ratio, 2)}), step time ${r.slope >= 0 ? '+' : ''}${r.slope} ` +
          `ms per 1000 steps, total ${r.total} ms, ms/step by tenth ${r.deciles.join(' ')}, ` +
          `others ${r.cpu.foreign_pct}%` +
          `${r.noisy ? ' (noisy)' : ''}${r.error ? ` ERROR ${r.error}` : ''}`);
        return r;
      }, () => ctx.withinBudget());
    if (ctx.profileDir && ctx.withinBudget()) {
      // One more run under the CPU profiler, not counted in the figures.
      const profiler = new RunProfiler(ctx.profileDir);
      await profiler.start();
      await sequentialRun(h, server, steps, window, clock);
      const { path, profile } = await profiler.stop(`sequential-${steps}`);
      ctx.note(`\n== CPU profile of ${steps} sequential steps -> ${path}\n` +
        `${summarise(profile as CpuProfile, 30)}\n`);
    }
    const mid = runs.find((r) => r.ratio === median(runs.map((x) => x.ratio))) ?? runs[0];
    ctx.emit({
      test: 'scaling', measure: 'sequential_steps', steps, window,
      first_window_ms: spread(runs.map((r) => r.first), 1),
      last_window_ms: spread(runs.map((r) => r.last), 1),
      ratio: spread(runs.map((r) => r.ratio), 3),
      step_growth_ms_per_1000_steps: spread(runs.map((r) => r.slope), 3),
      total_ms: spread(runs.map((r) => r.total), 0),
      ms_per_step_by_tenth: mid?.deciles ?? [],
      errors: runs.filter((r) => r.error !== null).length,
      runs: runs.length, attempts, noisy: runs.some((r) => r.noisy),
      cpu: { foreign_pct: runs.map((r) => r.cpu.foreign_pct),
        load_1m: runs.map((r) => r.cpu.load_1m) },
    });
  } finally {
    await hub?.close();
    await server.stop();
  }
}

async function sequentialRun(hub: BenchHub, server: BenchServer, steps: number, window: number,
  clock: { stamps: number[] }): Promise<SequentialRun> {
  clock.stamps = new Array(steps);
  const id = runPrefix('seq');
  const meter = cpuMeter(server.pid);
  const t0 = performance.now();
  await hub.client.createOrchestrationInstance('BenchSequential', { instanceId: id, input: steps });
  const state = await hub.client.waitForOrchestration(id, { timeoutMs: SEQUENTIAL_TIMEOUT_MS });
  const elapsed = performance.now() - t0;
  const cpu = meter.stop();
  const expected = JSON.stringify(steps - 1);
  const error = !state ? 'no final state within the timeout'
    : state.orchestrationStatus !== 'Completed' || state.output !== expected
      ? `status ${state.orchestrationStatus} output ${state.output}` : null;
  const at = (i: number): number => clock.stamps[i] ?? Number.NaN;
  // Step i lasts from its activity's run to the next activity's run.
  const first = at(window) - at(0);
  const last = at(steps - 1) - at(steps - 1 - window);
  const deciles: number[] = [];
  const tenth = Math.floor(steps / 10);
  for (let d = 0; d < 10; d++) {
    const a = d * tenth;
    const b = Math.min(steps - 1, (d + 1) * tenth);
    deciles.push(round(((at(b) - at(a)) / (b - a)), 3));
  }
  const durations: number[] = [];
  for (let i = 0; i + 1 < steps; i++) durations.push(at(i + 1) - at(i));
  return {
    first: round(first, 1), last: round(last, 1), ratio: round(last / first, 3),
    total: round(elapsed, 0), slope: round(slopePer1000(durations), 3), deciles, error, cpu,
    noisy: cpu.foreign_pct > NOISY_FOREIGN_PCT,
  };
}

/** Least-squares slope of `ys` against their index, per 1000 indexes. */
function slopePer1000(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - mx) * ((ys[i] as number) - my);
    den += (i - mx) ** 2;
  }
  return (num / den) * 1000;
}

/**
 * Hello throughput on an empty hub against a second hub of the same server
 * holding `finished` finished instances, each with its own worker in this
 * process. Runs alternate between the two hubs (empty, full, empty, ...), so
 * load from other work on the machine hits both alike.
 */
async function finishedInstances(ctx: BenchContext): Promise<void> {
  const { args } = ctx;
  const server = await openServer(args.natsUrl);
  const w = WORKLOADS.hello;
  const n = Math.min(FINISHED_HELLO_N, Math.max(...args.counts));
  let empty: BenchHub | undefined;
  let full: BenchHub | undefined;
  try {
    empty = await openHub(server, 'fin', { ...overrides(ctx), countOps: false });
    await waitForPartitions(empty);
    const templateId = `${runPrefix('template')}-0`;
    await runOne(empty.client, w, templateId);
    const template = await readTemplate(await jetstreamManager(empty.nc),
      new HubNames(empty.hub, empty.partitions), templateId);

    const engineFill = args.fill === 'engine';
    full = await openHub(server, 'fin', { ...overrides(ctx), countOps: false,
      startWorker: engineFill });
    let made: { count: number; ms: number; method: string };
    if (engineFill) {
      await waitForPartitions(full);
      made = await fillThroughEngine(ctx, full, args.finished);
    } else {
      made = await fillStore(ctx, full, template, args.finished);
      await full.worker.start();
      await waitForPartitions(full);
    }
    for (const h of [empty, full]) {
      await runPool(h.client, w, args.warmup, args.concurrency, runPrefix('warm'));
    }
    const pair = { empty, full };
    const { kept, attempts } = await repeatUntilQuiet(args.runs, args.runs + 2, async () => {
      const e = await throughputRun(pair.empty.client, w, n, args.concurrency, server.pid);
      const f = await throughputRun(pair.full.client, w, n, args.concurrency, server.pid);
      const noisy = e.noisy || f.noisy;
      ctx.note(`hello empty hub ${e.instancesPerSec}/s (cpu ${e.nodeCpuMsPerInstance}+` +
        `${e.serverCpuMsPerInstance} ms), with ${made.count} finished ${f.instancesPerSec}/s ` +
        `(cpu ${f.nodeCpuMsPerInstance}+${f.serverCpuMsPerInstance} ms), others ` +
        `${e.cpu.foreign_pct}/${f.cpu.foreign_pct}%${noisy ? ' (noisy)' : ''}`);
      return { e, f, noisy, cpu: e.cpu.foreign_pct >= f.cpu.foreign_pct ? e.cpu : f.cpu };
    }, () => ctx.withinBudget());
    const before = kept.map((k) => k.e);
    const after = kept.map((k) => k.f);
    const cpuMs = (r: ThroughputRun): number => r.nodeCpuMsPerInstance + r.serverCpuMsPerInstance;
    ctx.emit({
      test: 'scaling', measure: 'finished_instances', workload: 'hello', n,
      concurrency: args.concurrency,
      finished_instances: made.count, requested: args.finished, fill: made.method,
      fill_seconds: round(made.ms / 1000, 1),
      ...(made.count < args.finished ? { scaled_down: true } : {}),
      empty_instances_per_sec: spread(before.map((r) => r.instancesPerSec), 1),
      full_instances_per_sec: spread(after.map((r) => r.instancesPerSec), 1),
      empty_p50_ms: spread(before.map((r) => r.p50Ms)),
      full_p50_ms: spread(after.map((r) => r.p50Ms)),
      ratio: round(median(after.map((r) => r.instancesPerSec)) /
        median(before.map((r) => r.instancesPerSec)), 3),
      pair_ratios: kept.map((k) => round(k.f.instancesPerSec / k.e.instancesPerSec, 3)),
      cpu_ms_per_instance: { empty: round(median(before.map(cpuMs)), 3),
        full: round(median(after.map(cpuMs)), 3) },
      errors: [...before, ...after].reduce((a, r) => a + r.errors, 0),
      runs: kept.length, attempts, noisy: kept.some((k) => k.noisy),
      cpu: { foreign_pct: kept.map((k) => [k.e.cpu.foreign_pct, k.f.cpu.foreign_pct]),
        load_1m: kept.map((k) => k.e.cpu.load_1m) },
    });
  } finally {
    await empty?.close();
    await full?.close();
    await server.stop();
  }
}

/**
 * Runs hello instances through the worker at full speed, stopping early when
 * the budget would not allow the rest (the JSON line then says scaled_down).
 */
async function fillThroughEngine(ctx: BenchContext, hub: BenchHub, count: number):
  Promise<{ count: number; ms: number; method: string }> {
  const t0 = performance.now();
  const chunk = 1000;
  let done = 0;
  // Bounded by count and by the budget (keeps two thirds of what is left for the rest).
  const stopAt = t0 + ctx.budgetLeftMs() / 3;
  while (done < count && performance.now() < stopAt) {
    const k = Math.min(chunk, count - done);
    await runPool(hub.client, WORKLOADS.hello, k, 200, runPrefix('fill'));
    done += k;
  }
  const ms = performance.now() - t0;
  ctx.note(`filled ${done} finished instances through the engine in ${round(ms / 1000, 1)} s`);
  return { count: done, ms, method: 'engine' };
}

/**
 * Clones a finished hello instance into the new hub's commit log and
 * instance records before its worker starts, then moves the relay consumers
 * past the clones (where the engine leaves them after sending outboxes).
 */
async function fillStore(ctx: BenchContext, hub: BenchHub, template: Template, count: number):
  Promise<{ count: number; ms: number; method: string }> {
  const names = new HubNames(hub.hub, hub.partitions);
  const js = jetstream(hub.nc);
  const jsm = await jetstreamManager(hub.nc);
  let last = 0;
  const t0 = performance.now();
  await fillFinished(js, names, template, count, runPrefix('fill'), (done) => {
    if (done - last >= 20_000 || done === count) {
      last = done;
      ctx.note(`filled ${done}/${count} finished instances`);
    }
  });
  const skipped = await skipRelayBacklog(jsm, names);
  const ms = performance.now() - t0;
  const hist = await jsm.streams.info(names.histStream);
  ctx.note(`filled ${count} finished instances into the stores in ${round(ms / 1000, 1)} s ` +
    `(commit log ${hist.state.messages} messages, ${hist.state.num_subjects ?? '?'} subjects; ` +
    `relay consumers moved past ${skipped} cloned commits)`);
  return { count, ms, method: 'store (commits and records cloned from a finished instance)' };
}
