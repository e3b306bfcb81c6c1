import type { TaskHubClient } from '../src/runtime/index.ts';
import { runOne, type InstanceResult, type Workload } from './workloads.ts';

export interface PoolRun {
  readonly wallMs: number;
  readonly results: InstanceResult[];
}

/**
 * Starts `n` instances with at most `concurrency` in flight (each slot starts
 * the next instance when its previous one finished), waits for each and
 * checks its output.
 */
export async function runPool(client: TaskHubClient, w: Workload, n: number, concurrency: number,
  idPrefix: string): Promise<PoolRun> {
  const results: InstanceResult[] = new Array(n);
  let next = 0;
  const t0 = performance.now();
  const slot = async (): Promise<void> => {
    // Bounded: each turn takes a distinct index below n.
    for (;;) {
      const i = next++;
      if (i >= n) return;
      results[i] = await runOne(client, w, `${idPrefix}-${i}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, slot));
  return { wallMs: performance.now() - t0, results };
}

/** Runs `n` instances strictly one after another (the latency test). */
export async function runSerial(client: TaskHubClient, w: Workload, n: number, idPrefix: string):
  Promise<InstanceResult[]> {
  const out: InstanceResult[] = [];
  for (let i = 0; i < n; i++) out.push(await runOne(client, w, `${idPrefix}-${i}`));
  return out;
}
