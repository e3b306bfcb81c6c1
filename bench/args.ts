/** Command-line options of `npm run bench`. */

export const ALL_WORKLOADS = ['hello', 'chain', 'fanout'] as const;
export type WorkloadName = (typeof ALL_WORKLOADS)[number];
export const ALL_TESTS = ['throughput', 'latency', 'scaling', 'memory', 'floor'] as const;
/** Tests of a run without `--only` (the floor is asked for by name). */
const DEFAULT_TESTS: readonly TestName[] = ['throughput', 'latency', 'scaling', 'memory'];
export type TestName = (typeof ALL_TESTS)[number];
/** Tests run per workload (scaling and memory have their own fixed workloads). */
const WORKLOAD_TESTS: readonly TestName[] = ['throughput', 'latency'];

export interface BenchArgs {
  /** Tests to run, in the order of ALL_TESTS. */
  readonly parts: readonly TestName[];
  /** Workloads of the throughput and latency tests. */
  readonly workloads: readonly WorkloadName[];
  /** Instance counts of the throughput tests. */
  readonly counts: readonly number[];
  readonly concurrency: number;
  /** Throughput runs per count (the median is reported). */
  readonly runs: number;
  readonly warmup: number;
  /** Instances of the one-at-a-time latency test. */
  readonly latencyN: number;
  /** Steps of the sequential-steps scaling test. */
  readonly steps: number;
  /** Finished instances written before the second hello measurement. */
  readonly finished: number;
  /** How the finished instances are made: cloned into the store, or run through the engine. */
  readonly fill: 'store' | 'engine';
  /** Instances waiting on an external event in the memory test. */
  readonly waiting: number;
  readonly quick: boolean;
  /** Count JetStream operations per instance (wraps the connection; small overhead). */
  readonly countOps: boolean;
  readonly natsUrl: string | undefined;
  /** `--profile DIR`: CPU profiles and stage timings of one extra run per workload. */
  readonly profileDir: string | undefined;
  /** Experiments: options merged over the library defaults (`--backend-options JSON`). */
  readonly backendOptions: Readonly<Record<string, unknown>>;
  /** Experiments: TaskHubWorker options (`--worker-options JSON`). */
  readonly workerOptions: Readonly<Record<string, unknown>>;
  /** Experiments: `Error.stackTraceLimit` during the run (prices per-request Error objects). */
  readonly stackTraceLimit: number | undefined;
}

const USAGE = `usage: npm run bench -- [options]
  --only <list>       comma list of workloads (${ALL_WORKLOADS.join(',')}) and/or tests
                      (${ALL_TESTS.join(',')}); default everything. Workloads alone run
                      their throughput and latency tests; tests alone run for all workloads;
                      'floor' (only when named) prices hello's JetStream operations alone
  --n <counts>        comma list of instance counts for throughput (default 200,1000)
  --concurrency <c>   instances in flight (default 50)
  --runs <r>          runs per count, median reported (default 3)
  --warmup <w>        warm-up instances per workload (default 100)
  --latency-n <n>     one-at-a-time instances (default 50)
  --steps <s>         sequential steps of the scaling run (default 1000)
  --finished <f>      finished instances for the scaling run (default 100000)
  --fill store|engine how finished instances are made (default store)
  --waiting <w>       instances waiting on an event in the memory run (default 10000)
  --no-ops            do not count JetStream operations
  --quick             smoke test: small counts, 1 run
  --js                run from one esbuild bundle (plain JavaScript, no tsx), as compiled
                      code runs; the env line names which
  --profile <dir>     after the timed runs, one CPU-profiled run and one stage-timed run
                      per workload (summaries on stderr, .cpuprofile files in <dir>)
  --backend-options <json>, --worker-options <json>
                      experiments only: options merged over the library defaults, e.g.
                      '{"prefetchPerPartition":64}'; the JSON lines then carry "overrides"
  --stack-trace-limit <n>
                      experiments only: Error.stackTraceLimit once modules are loaded
  NATS_URL=nats://127.0.0.1:PORT uses that server instead of an embedded one`;

function intList(text: string, flag: string): number[] {
  const out = text.split(',').map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`${flag} takes positive integers, got '${text}'.\n${USAGE}`);
  }
  return out;
}

function int(text: string | undefined, flag: string): number {
  const [n] = intList(text ?? '', flag);
  return n as number;
}

function jsonObject(text: string | undefined, flag: string): Record<string, unknown> {
  if (text === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`${flag} takes a JSON object: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Error(`${flag} takes a JSON object, got ${text}.`);
  }
  return v as Record<string, unknown>;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const opts = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--help' || a === '-h') {
      process.stderr.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (a === '--quick' || a === '--no-ops') {
      flags.add(a);
      continue;
    }
    if (!a.startsWith('--')) throw new Error(`Unexpected argument '${a}'.\n${USAGE}`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      opts.set(a.slice(0, eq), a.slice(eq + 1));
    } else {
      const v = argv[i + 1];
      if (v === undefined) throw new Error(`${a} needs a value.\n${USAGE}`);
      opts.set(a, v);
      i++;
    }
  }
  const known = ['--only', '--n', '--concurrency', '--runs', '--warmup', '--latency-n',
    '--steps', '--finished', '--fill', '--waiting', '--profile', '--backend-options',
    '--worker-options', '--stack-trace-limit'];
  for (const k of opts.keys()) {
    if (!known.includes(k)) throw new Error(`Unknown option '${k}'.\n${USAGE}`);
  }
  const quick = flags.has('--quick');
  const only = opts.get('--only');
  const tokens = only === undefined ? [] : only.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of tokens) {
    if (!(ALL_WORKLOADS as readonly string[]).includes(t) &&
      !(ALL_TESTS as readonly string[]).includes(t)) {
      throw new Error(`Unknown part '${t}'.\n${USAGE}`);
    }
  }
  const namedWorkloads = ALL_WORKLOADS.filter((w) => tokens.includes(w));
  const namedTests = ALL_TESTS.filter((t) => tokens.includes(t));
  const parts: readonly TestName[] = tokens.length === 0 ? DEFAULT_TESTS
    : namedTests.length > 0 ? namedTests : WORKLOAD_TESTS;
  const workloads = namedWorkloads.length > 0 ? namedWorkloads : ALL_WORKLOADS;
  const fill = opts.get('--fill') ?? 'store';
  if (fill !== 'store' && fill !== 'engine') {
    throw new Error(`--fill is store or engine.\n${USAGE}`);
  }
  const get = (k: string, normal: number, small: number): number =>
    opts.has(k) ? int(opts.get(k), k) : quick ? small : normal;
  return {
    parts,
    workloads,
    counts: opts.has('--n') ? intList(opts.get('--n') as string, '--n')
      : quick ? [100] : [200, 1000],
    concurrency: get('--concurrency', 50, 50),
    runs: get('--runs', 3, 1),
    warmup: get('--warmup', 100, 20),
    latencyN: get('--latency-n', 50, 10),
    steps: get('--steps', 1000, 200),
    finished: get('--finished', 100_000, 2_000),
    fill,
    waiting: get('--waiting', 10_000, 500),
    quick,
    countOps: !flags.has('--no-ops'),
    natsUrl: process.env['NATS_URL'] || undefined,
    profileDir: opts.get('--profile'),
    backendOptions: jsonObject(opts.get('--backend-options'), '--backend-options'),
    workerOptions: jsonObject(opts.get('--worker-options'), '--worker-options'),
    stackTraceLimit: opts.has('--stack-trace-limit')
      ? Number(opts.get('--stack-trace-limit')) : undefined,
  };
}
