import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { processCpuSeconds } from './server.ts';
import { round } from './stats.ts';

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds all cores spent busy (user, nice, system, irq, softirq) since boot. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0);
    return busy / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** What the machine did during one measured run. */
export interface CpuReport {
  /** This process (client + hub + worker), percent of one core. */
  readonly node_pct: number;
  /** The embedded nats-server, percent of one core (0 when external). */
  readonly server_pct: number;
  /** Everything else on the box (other developers' work), percent of one core. */
  readonly foreign_pct: number;
  /** Event-loop utilisation of this process, 0..1. */
  readonly elu: number;
  /** 1-minute load average when the run started. */
  readonly load_1m: number;
}

/** Starts measuring CPU use; `stop()` returns the report for the elapsed interval. */
export function cpuMeter(serverPid: number | undefined): { stop(): CpuReport } {
  const t0 = performance.now();
  const node0 = process.cpuUsage();
  const server0 = processCpuSeconds(serverPid);
  const machine0 = machineBusySeconds();
  const elu0 = performance.eventLoopUtilization();
  const load = loadavg()[0] ?? 0;
  return {
    stop(): CpuReport {
      const wallS = (performance.now() - t0) / 1000;
      const n = process.cpuUsage(node0);
      const nodeS = (n.user + n.system) / 1e6;
      const serverS = processCpuSeconds(serverPid) - server0;
      const machineS = machineBusySeconds() - machine0;
      const foreignS = Math.max(0, machineS - nodeS - serverS);
      const pct = (s: number): number => round((100 * s) / Math.max(wallS, 1e-3), 0);
      return {
        node_pct: pct(nodeS), server_pct: pct(serverS), foreign_pct: pct(foreignS),
        elu: round(performance.eventLoopUtilization(elu0).utilization, 2), load_1m: round(load, 2),
      };
    },
  };
}

/** Runs with more than this much foreign CPU (percent of one core) count as noisy. */
export const NOISY_FOREIGN_PCT = 30;
