import type { TaskHubClient } from '../src/runtime/index.ts';
import { cpuMeter, NOISY_FOREIGN_PCT, type CpuReport } from './machine.ts';
import { runPool, runSerial } from './pool.ts';
import { median, quantile, round } from './stats.ts';
import type { InstanceResult, Workload } from './workloads.ts';

/** The figures of one measured throughput run. */
export interface ThroughputRun {
  readonly instancesPerSec: number;
  readonly stepsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly errorSample: string | undefined;
  readonly cpu: CpuReport;
  /** CPU milliseconds per instance of this process and of the server (steadier than rates). */
  readonly nodeCpuMsPerInstance: number;
  readonly serverCpuMsPerInstance: number;
  readonly noisy: boolean;
}

let runCounter = 0;

/** A unique instance-id prefix per run (ids never repeat within a hub). */
export function runPrefix(label: string): string {
  runCounter++;
  return `${label}-${runCounter.toString(36)}`;
}

function errorsOf(results: readonly InstanceResult[]): { count: number; sample?: string } {
  const failed = results.filter((r) => r.error !== null);
  return failed.length === 0 ? { count: 0 } : { count: failed.length, sample: failed[0]?.error ??
    undefined };
}

/** One throughput run: n instances, at most `concurrency` in flight, every output checked. */
export async function throughputRun(client: TaskHubClient, w: Workload, n: number,
  concurrency: number, serverPid: number | undefined): Promise<ThroughputRun> {
  const meter = cpuMeter(serverPid);
  const run = await runPool(client, w, n, concurrency, runPrefix(`${w.name}-n${n}`));
  const cpu = meter.stop();
  const lat = run.results.map((r) => r.latencyMs);
  const errs = errorsOf(run.results);
  const ips = (n * 1000) / run.wallMs;
  return {
    instancesPerSec: round(ips, 1),
    stepsPerSec: round(ips * w.activities, 1),
    p50Ms: round(quantile(lat, 0.5), 2),
    p99Ms: round(quantile(lat, 0.99), 2),
    errors: errs.count,
    errorSample: errs.sample,
    cpu,
    nodeCpuMsPerInstance: round((cpu.node_pct / 100) * run.wallMs / n, 3),
    serverCpuMsPerInstance: round((cpu.server_pct / 100) * run.wallMs / n, 3),
    noisy: cpu.foreign_pct > NOISY_FOREIGN_PCT,
  };
}

/** The figures of one one-at-a-time run. */
export interface LatencyRun {
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly errorSample: string | undefined;
  readonly cpu: CpuReport;
  readonly noisy: boolean;
}

export async function latencyRun(client: TaskHubClient, w: Workload, n: number,
  serverPid: number | undefined): Promise<LatencyRun> {
  const meter = cpuMeter(serverPid);
  const results = await runSerial(client, w, n, runPrefix(`${w.name}-serial`));
  const cpu = meter.stop();
  const lat = results.map((r) => r.latencyMs);
  const errs = errorsOf(results);
  return {
    medianMs: round(median(lat), 3),
    p99Ms: round(quantile(lat, 0.99), 3),
    errors: errs.count,
    errorSample: errs.sample,
    cpu,
    noisy: cpu.foreign_pct > NOISY_FOREIGN_PCT,
  };
}

/**
 * Runs `measure` until `wanted` quiet runs were collected or `maxAttempts`
 * were made (other developers share the box); returns the quiet runs, topped
 * up with the least noisy of the others when too few were quiet.
 */
export async function repeatUntilQuiet<T extends { noisy: boolean; cpu: CpuReport }>(
  wanted: number, maxAttempts: number, measure: () => Promise<T>,
  withinBudget: () => boolean): Promise<{ kept: T[]; attempts: number }> {
  const all: T[] = [];
  // Bounded by maxAttempts; past the time budget only the first run is still made.
  for (let i = 0; i < maxAttempts; i++) {
    const quiet = all.filter((r) => !r.noisy).length;
    if (quiet >= wanted) break;
    if (all.length >= wanted && !withinBudget()) break;
    if (all.length >= 1 && !withinBudget()) break;
    all.push(await measure());
  }
  const quiet = all.filter((r) => !r.noisy);
  const noisy = all.filter((r) => r.noisy).sort((a, b) => a.cpu.foreign_pct - b.cpu.foreign_pct);
  return { kept: [...quiet, ...noisy].slice(0, Math.max(1, wanted)), attempts: all.length };
}
