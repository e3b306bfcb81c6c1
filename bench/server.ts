import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, startNatsServer, type EmbeddedServer } from '../src/embedded/nats-server.ts';

/** A server the benchmark talks to: embedded (ours, stopped at the end) or given by NATS_URL. */
export interface BenchServer {
  readonly url: string;
  /** PID of the embedded server (for its CPU time), undefined for an external one. */
  readonly pid: number | undefined;
  /** Monitoring base URL on 127.0.0.1, when the embedded server has one. */
  readonly monitorUrl: string | undefined;
  /** Go profiling endpoint base URL on 127.0.0.1 (`/debug/pprof/...`), when embedded. */
  readonly profUrl: string | undefined;
  stop(): Promise<void>;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** Embedded servers still running: ended by PID if this process exits first. */
const live = new Map<number, string>();
process.on('exit', () => {
  for (const [pid, dir] of live) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Starts nats-server on 127.0.0.1 with a fresh store in a temp directory and
 * the monitoring endpoint on a free loopback port; or wraps NATS_URL.
 */
export async function openServer(natsUrl: string | undefined): Promise<BenchServer> {
  if (natsUrl) {
    return { url: natsUrl, pid: undefined, monitorUrl: undefined, profUrl: undefined,
      stop: async () => undefined };
  }
  const dir = mkdtempSync(join(tmpdir(), 'dt-bench-'));
  const httpPort = await findFreePort();
  const profPort = await findFreePort();
  const configFile = join(dir, 'bench-nats.conf');
  // Same limits as the repository's nats.conf, plus monitoring on loopback.
  writeFileSync(configFile, [
    'server_name: durabletask_bench',
    'listen: 127.0.0.1:4222',
    `http: 127.0.0.1:${httpPort}`,
    // The profiler listens on the server's host, which the launcher sets to 127.0.0.1.
    `prof_port: ${profPort}`,
    'max_payload: 2MB',
    'jetstream {',
    `  store_dir: ${JSON.stringify(join(dir, 'store'))}`,
    '  max_memory_store: 256MB',
    '  max_file_store: 8GB',
    '}',
    '',
  ].join('\n'));
  let server: EmbeddedServer;
  try {
    server = await startNatsServer({ storeDir: join(dir, 'store'), configFile });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  live.set(server.pid, dir);
  return {
    url: server.url,
    pid: server.pid,
    monitorUrl: `http://127.0.0.1:${httpPort}`,
    profUrl: `http://127.0.0.1:${profPort}`,
    stop: async () => {
      await server.stop();
      live.delete(server.pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CPU seconds (user + system) a process used so far; 0 when unknown. */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Resident set size of a process in MB; NaN when unknown. */
export function processRssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** A CPU profile of the server over `seconds` (gzipped pprof), or undefined. */
export async function serverCpuProfile(server: BenchServer, seconds: number):
  Promise<Uint8Array | undefined> {
  if (!server.profUrl) return undefined;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), (seconds + 15) * 1000);
  try {
    const res = await fetch(`${server.profUrl}/debug/pprof/profile?seconds=${seconds}`,
      { signal: ac.signal });
    return res.ok ? new Uint8Array(await res.arrayBuffer()) : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a monitoring endpoint (`/varz`, `/jsz?streams=true`...); undefined when unavailable. */
export async function monitor(server: BenchServer, path: string): Promise<unknown> {
  if (!server.monitorUrl) return undefined;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 5_000);
  try {
    const res = await fetch(`${server.monitorUrl}${path}`, { signal: ac.signal });
    return await res.json();
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
