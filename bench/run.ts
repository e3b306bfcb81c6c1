/**
 * `npm run bench`: throughput, latency, scaling and memory of the NATS
 * backend with the runtime, worker and client in one process (the memory run
 * puts the worker in a child process). JSON lines on stdout, a table and
 * progress on stderr. See bench/NOTES.md for what the figures mean.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type BenchArgs } from './args.ts';
import type { BenchContext } from './context.ts';
import { floorSection } from './floor.ts';
import { formatRows, workloadSection } from './section-workload.ts';
import { memorySection } from './section-memory.ts';
import { scalingSection } from './section-scaling.ts';
import { round } from './stats.ts';

/** The whole run must end within 10 minutes; measurements stop at this budget. */
const BUDGET_MS = 9 * 60_000;

function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2).filter((a) => a !== JS_FLAG));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return Promise.resolve(2);
  }
  if (args.stackTraceLimit !== undefined) Error.stackTraceLimit = args.stackTraceLimit;
  const started = performance.now();
  const lines: Record<string, unknown>[] = [];
  const ctx: BenchContext = {
    args,
    emit(raw) {
      const extra = { ...args.backendOptions, ...args.workerOptions };
      const line = Object.keys(extra).length === 0 && args.stackTraceLimit === undefined ? raw
        : { ...raw, overrides: { backend: args.backendOptions, worker: args.workerOptions,
          ...(args.stackTraceLimit !== undefined ? { stackTraceLimit: args.stackTraceLimit }
            : {}) } };
      lines.push(line);
      process.stdout.write(`${JSON.stringify(line)}\n`);
    },
    note(text) {
      process.stderr.write(`${text}\n`);
    },
    withinBudget: () => performance.now() - started < BUDGET_MS,
    budgetLeftMs: () => Math.max(0, BUDGET_MS - (performance.now() - started)),
    profileDir: args.profileDir,
  };
  return run(ctx, lines, started);
}

/** Which code was measured: the commit, and how many files under src/ and actors/ differ. */
function codeVersion(): { commit: string; uncommitted_src_files: number } {
  const git = (...a: string[]): string => {
    try {
      return execFileSync('git', a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return '';
    }
  };
  const commit = git('rev-parse', '--short', 'HEAD').trim() || 'unknown';
  const dirty = git('status', '--porcelain', '--', 'src', 'actors').split('\n')
    .filter((l) => l.trim().length > 0).length;
  return { commit, uncommitted_src_files: dirty };
}

async function run(ctx: BenchContext, lines: Record<string, unknown>[], started: number):
  Promise<number> {
  const { args } = ctx;
  ctx.emit({ test: 'env', node: process.version, cpus: cpus().length, ...codeVersion(),
    code: process.env['DT_BENCH_BUNDLED'] ? 'bundled JavaScript (--js)' : 'TypeScript through tsx',
    load: loadavg().map((l) => round(l, 2)), quick: args.quick });
  ctx.note(`bench: node ${process.version}, ${cpus().length} cpus, ` +
    `${round(totalmem() / 2 ** 30, 0)} GB, load ${loadavg().map((l) => round(l, 2)).join(' ')}; ` +
    `parts ${args.parts.join(',')}; workloads ${args.workloads.join(',')}; ` +
    `n ${args.counts.join(',')}; concurrency ${args.concurrency}; runs ${args.runs}` +
    `${args.quick ? ' (quick)' : ''}`);
  let failed = false;
  const section = async (label: string, fn: () => Promise<void>): Promise<void> => {
    if (!ctx.withinBudget()) {
      ctx.emit({ test: 'skipped', section: label, reason: 'time budget used up' });
      return;
    }
    try {
      await fn();
    } catch (err) {
      failed = true;
      ctx.emit({ test: 'failed', section: label, error: (err as Error).message.slice(0, 500) });
      ctx.note(`${label} failed: ${(err as Error).stack ?? String(err)}`);
    }
  };
  const tests = { throughput: args.parts.includes('throughput'),
    latency: args.parts.includes('latency') };
  if (tests.throughput || tests.latency) {
    for (const w of args.workloads) await section(w, () => workloadSection(ctx, w, tests));
  }
  if (args.parts.includes('scaling')) await section('scaling', () => scalingSection(ctx));
  if (args.parts.includes('memory')) await section('memory', () => memorySection(ctx));
  if (args.parts.includes('floor')) await section('floor', () => floorSection(ctx));
  ctx.note(`\n${summaryTable(lines)}\n\nbench finished in ` +
    `${round((performance.now() - started) / 1000, 1)} s, load ` +
    `${loadavg().map((l) => round(l, 2)).join(' ')}`);
  const errors = lines.reduce((a, l) => a + (typeof l['errors'] === 'number' ? l['errors'] : 0), 0);
  return failed || errors > 0 ? 1 : 0;
}

/** Targets from the brief, checked against the figures (never by timed tests). */
function verdict(line: Record<string, unknown>): string {
  const med = (k: string): number => (line[k] as { median: number } | undefined)?.median ?? NaN;
  const mark = (ok: boolean, target: string): string => `${ok ? 'ok ' : 'MISS'} ${target}`;
  if (line['test'] === 'throughput' && line['n'] === 1000) {
    const target = { hello: 2000, chain: 1000, fanout: 600 }[line['workload'] as string] ?? 0;
    return mark(med('instances_per_sec') >= target, `>= ${target}/s`);
  }
  if (line['test'] === 'latency' && line['workload'] === 'hello') {
    return mark(med('median_latency_ms') <= 2, '<= 2 ms');
  }
  if (line['test'] === 'scaling' && line['measure'] === 'sequential_steps') {
    return mark(med('ratio') <= 1.3, 'last/first <= 1.3');
  }
  if (line['test'] === 'scaling' && line['measure'] === 'finished_instances') {
    return mark((line['ratio'] as number) >= 0.85, 'within 15%');
  }
  if (line['test'] === 'memory') return mark((line['rss_mb'] as number) <= 200, '<= 200 MB');
  return '';
}

function summaryTable(lines: readonly Record<string, unknown>[]): string {
  const fmt = (v: unknown): string => {
    const s = v as { median?: number; min?: number; max?: number } | undefined;
    return s && typeof s === 'object' && 'median' in s
      ? (s.min === s.max ? `${s.median}` : `${s.median} [${s.min}..${s.max}]`)
      : v === undefined ? '' : String(v);
  };
  const hidden = ['ops', 'stages', 'floor', 'env'];
  const shown = lines.filter((l) => !hidden.includes(l['test'] as string));
  const rows = shown.map((l) => {
    switch (l['test']) {
      case 'throughput':
        return { test: `throughput ${l['workload']} n=${l['n']}`,
          value: `${fmt(l['instances_per_sec'])}/s`, detail: `${fmt(l['steps_per_sec'])} act/s, ` +
            `p50 ${fmt(l['p50_ms'])} ms, p99 ${fmt(l['p99_ms'])} ms, errors ${l['errors']}`,
          target: verdict(l) };
      case 'latency':
        return { test: `one at a time ${l['workload']}`, value: `${fmt(l['median_latency_ms'])} ms`,
          detail: `errors ${l['errors']}`, target: verdict(l) };
      case 'scaling':
        return l['measure'] === 'sequential_steps'
          ? { test: `${l['steps']} sequential steps`, value: `x${fmt(l['ratio'])}`,
            detail: `first ${fmt(l['first_window_ms'])} ms, last ${fmt(l['last_window_ms'])} ms`,
            target: verdict(l) }
          : { test: `hello with ${l['finished_instances']} finished`, value: `x${l['ratio']}`,
            detail: `${fmt(l['full_instances_per_sec'])}/s vs ` +
              `${fmt(l['empty_instances_per_sec'])}/s`,
            target: verdict(l) };
      case 'memory':
        return { test: `rss, ${l['waiting']} waiting`, value: `${l['rss_mb']} MB`,
          detail: `idle ${l['idle_rss_mb']} MB, after GC ${l['rss_after_gc_mb']} MB, heap ` +
            `${l['retained_per_instance_kb']} KB/instance`,
          target: verdict(l) };
      default:
        return { test: String(l['test']), value: String(l['section'] ?? ''),
          detail: String(l['reason'] ?? l['error'] ?? ''), target: '' };
    }
  });
  return formatRows(rows);
}

let exiting = false;
function onSignal(signal: NodeJS.Signals): void {
  if (exiting) return;
  exiting = true;
  process.stderr.write(`bench: ${signal}, stopping\n`);
  // The embedded servers are children of this process; `exit` ends them (see server.ts).
  process.exit(130);
}
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
process.stdout.on('error', () => onSignal('SIGPIPE'));

/**
 * `--js`: runs the whole bench from one esbuild bundle of this directory's
 * code and src/ (packages stay external), without the TypeScript loader, as
 * compiled code runs in production. tsx costs 10-15 % CPU here (its helpers
 * name every closure it makes).
 */
const JS_FLAG = '--js';

async function runBundled(): Promise<number> {
  const benchDir = dirname(fileURLToPath(import.meta.url));
  const dir = join(benchDir, '..', 'node_modules', '.cache', 'dt-bench');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `run-${process.pid}.mjs`);
  const esbuild = (await import('esbuild' as string)) as {
    build(options: Record<string, unknown>): Promise<unknown>;
  };
  await esbuild.build({
    entryPoints: [join(benchDir, 'run.ts')], bundle: true, platform: 'node', format: 'esm',
    packages: 'external', outfile, logLevel: 'silent',
  });
  try {
    const child = spawn(process.execPath, [outfile, ...process.argv.slice(2)
      .filter((a) => a !== JS_FLAG)], {
      stdio: 'inherit',
      env: { ...process.env, DT_BENCH_BUNDLED: '1', DT_BENCH_DIR: benchDir },
    });
    return await new Promise<number>((resolve) => {
      child.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    rmSync(outfile, { force: true });
  }
}

const bundled = process.argv.includes(JS_FLAG) && !process.env['DT_BENCH_BUNDLED'];
(bundled ? runBundled() : main()).then((code) => {
  process.exitCode = code;
  // Open handles of a failed section must not keep the process alive.
  setTimeout(() => process.exit(code), 2_000).unref();
}, (err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
