import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { HubNames } from '../src/nats/names.ts';
import { openHub, waitForPartitions, type BenchHub } from './bench-hub.ts';
import { overrides, type BenchContext } from './context.ts';
import { fillFinished, skipRelayBacklog, readTemplate, type Template } from './fill.ts';
import { cpuMeter } from './machine.ts';
import { repeatUntilQuiet, runPrefix, throughputRun } from './measure.ts';
import { runPool } from './pool.ts';
import { openServer } from './server.ts';
import { median, round, spread } from './stats.ts';
import { runOne, WORKLOADS } from './workloads.ts';

const PARTITIONS = 16;
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

/**
 * One orchestration of `steps` sequential activities: the time of the first
 * 100 steps against the last 100, from the moments each step's activity ran.
 */
async function sequentialSteps(ctx: BenchContext): Promise<void> {
  const steps = ctx.args.steps;
  const window = Math.min(100, Math.floor(steps / 4));
  const server = await openServer(ctx.args.natsUrl);
  let stamps: number[] = [];
  let hub: BenchHub | undefined;
  try {
    hub = await openHub(server, 'seq', { ...overrides(ctx), countOps: false,
      onStep: (i) => { stamps[i] = performance.now(); } });
    await waitForPartitions(hub);
    await runPool(hub.client, WORKLOADS.hello, 20, 10, runPrefix('warm'));
    const runs: { first: number; last: number; ratio: number; total: number; deciles: number[];
      error: string | null; load: number; foreign: number }[] = [];
    for (let r = 0; r < SEQUENTIAL_RUNS; r++) {
      if (r > 0 && !ctx.withinBudget()) break;
      stamps = new Array(steps);
      const id = runPrefix('seq');
      const meter = cpuMeter(server.pid);
      const t0 = performance.now();
      await hub.client.createOrchestrationInstance('BenchSequential', { instanceId: id,
        input: steps });
      const state = await hub.client.waitForOrchestration(id, { timeoutMs: SEQUENTIAL_TIMEOUT_MS });
      const total = performance.now() - t0;
      const cpu = meter.stop();
      const expected = JSON.stringify(steps - 1);
      const error = !state ? 'no final state within the timeout'
        : state.orchestrationStatus !== 'Completed' || state.output !== expected
          ? `status ${state.orchestrationStatus} output ${state.output}` : null;
      const at = (i: number): number => stamps[i] ?? Number.NaN;
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
      runs.push({ first: round(first, 1), last: round(last, 1), ratio: round(last / first, 3),
        total: round(total, 0), deciles, error, load: cpu.load_1m, foreign: cpu.foreign_pct });
      ctx.note(`sequential ${steps} steps: first ${window} ${round(first, 1)} ms, last ${window} ` +
        `${round(last, 1)} ms (x${round(last / first, 2)}), total ${round(total, 0)} ms, ` +
        `ms/step by tenth ${deciles.join(' ')}${error ? ` ERROR ${error}` : ''}`);
    }
    const mid = runs.find((r) => r.ratio === median(runs.map((x) => x.ratio))) ?? runs[0];
    ctx.emit({
      test: 'scaling', measure: 'sequential_steps', steps, window,
      first_window_ms: spread(runs.map((r) => r.first), 1),
      last_window_ms: spread(runs.map((r) => r.last), 1),
      ratio: spread(runs.map((r) => r.ratio), 3),
      total_ms: spread(runs.map((r) => r.total), 0),
      ms_per_step_by_tenth: mid?.deciles ?? [],
      errors: runs.filter((r) => r.error !== null).length,
      runs: runs.length,
      cpu: { foreign_pct: runs.map((r) => r.foreign), load_1m: runs.map((r) => r.load) },
    });
  } finally {
    await hub?.close();
    await server.stop();
  }
}

/**
 * Hello throughput on an empty hub, then on a second hub of the same server
 * holding `finished` finished instances. Each hub gets a fresh worker.
 */
async function finishedInstances(ctx: BenchContext): Promise<void> {
  const { args } = ctx;
  const server = await openServer(args.natsUrl);
  const w = WORKLOADS.hello;
  const n = Math.min(FINISHED_HELLO_N, Math.max(...args.counts));
  const measure = async (h: BenchHub, label: string) => repeatUntilQuiet(args.runs,
    args.runs + 2, async () => {
      const r = await throughputRun(h.client, w, n, args.concurrency, server.pid);
      ctx.note(`hello ${label}: ${r.instancesPerSec}/s p50 ${r.p50Ms} ms errors ${r.errors}` +
        ` others ${r.cpu.foreign_pct}%${r.noisy ? ' (noisy)' : ''}`);
      return r;
    }, () => ctx.withinBudget());
  let empty: BenchHub | undefined;
  let full: BenchHub | undefined;
  try {
    empty = await openHub(server, 'fin', { ...overrides(ctx), countOps: false });
    await waitForPartitions(empty);
    await runPool(empty.client, w, args.warmup, args.concurrency, runPrefix('warm'));
    const before = await measure(empty, 'empty hub');
    const templateId = `${runPrefix('template')}-0`;
    await runOne(empty.client, w, templateId);
    const template = await readTemplate(await jetstreamManager(empty.nc),
      new HubNames(empty.hub, PARTITIONS), templateId);
    await empty.close();

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
    await runPool(full.client, w, args.warmup, args.concurrency, runPrefix('warm'));
    const after = await measure(full, `with ${made.count} finished`);
    const e = median(before.kept.map((r) => r.instancesPerSec));
    const f = median(after.kept.map((r) => r.instancesPerSec));
    const all = [...before.kept, ...after.kept];
    ctx.emit({
      test: 'scaling', measure: 'finished_instances', workload: 'hello', n,
      concurrency: args.concurrency,
      finished_instances: made.count, requested: args.finished, fill: made.method,
      fill_seconds: round(made.ms / 1000, 1),
      ...(made.count < args.finished ? { scaled_down: true } : {}),
      empty_instances_per_sec: spread(before.kept.map((r) => r.instancesPerSec), 1),
      full_instances_per_sec: spread(after.kept.map((r) => r.instancesPerSec), 1),
      empty_p50_ms: spread(before.kept.map((r) => r.p50Ms)),
      full_p50_ms: spread(after.kept.map((r) => r.p50Ms)),
      ratio: round(f / e, 3),
      errors: all.reduce((a, r) => a + r.errors, 0),
      cpu: { foreign_pct: all.map((r) => r.cpu.foreign_pct),
        load_1m: all.map((r) => r.cpu.load_1m) },
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
  const names = new HubNames(hub.hub, PARTITIONS);
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
