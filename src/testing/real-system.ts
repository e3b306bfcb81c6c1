import type { Backend } from '../core/backend.ts';
import type { HistoryEvent } from '../core/history-event.ts';
import type { ActivityWorkItem, OrchestrationWorkItem } from '../core/work-item.ts';
import type { BackendContext, ConformanceTarget } from './conformance-target.ts';
import { TimeDriver } from './time-driver.ts';

export interface RealWorker {
  readonly index: number;
  readonly backend: Backend;
  /** False once it crashed: it makes no new lock calls. */
  alive: boolean;
  /** Stalled by the target's `pause` (until the faults are cleared). */
  paused: boolean;
}

/** A work item as its holder keeps it: the stored history it was handed, for retries. */
export interface RealHolder {
  readonly item: OrchestrationWorkItem;
  readonly worker: number;
  readonly past: readonly HistoryEvent[];
  readonly customStatus: string | null | undefined;
}

export interface RealActivityHolder {
  readonly item: ActivityWorkItem;
  readonly worker: number;
}

/**
 * The system under test in one run: the workers of one task hub, the work
 * items they handed out (by model holder id), and the run's time.
 */
export class RealSystem {
  readonly workers: RealWorker[] = [];
  readonly holders = new Map<number, RealHolder>();
  readonly activityHolders = new Map<number, RealActivityHolder>();
  readonly time: TimeDriver;
  private readonly all: Backend[] = [];

  private constructor(
    readonly target: ConformanceTarget,
    readonly ctx: BackendContext,
  ) {
    this.time = new TimeDriver(ctx.clock);
  }

  /** Creates, provisions and starts the run's first workers. */
  static async open(target: ConformanceTarget, run: number): Promise<RealSystem> {
    const clock = target.clock?.();
    const sys = new RealSystem(target, { clock, run });
    try {
      const first = await target.createBackend(sys.ctx);
      await sys.adopt(first);
      const want = target.createPeer ? Math.max(1, Math.min(2, target.workers ?? 1)) : 1;
      while (sys.workers.length < want) await sys.addPeer();
    } catch (err) {
      await sys.close();
      throw err;
    }
    return sys;
  }

  private async adopt(backend: Backend): Promise<RealWorker> {
    this.all.push(backend);
    await backend.service.createIfNotExists();
    await backend.service.start();
    const w: RealWorker = { index: this.workers.length, backend, alive: true, paused: false };
    this.workers.push(w);
    return w;
  }

  /** A new worker on the same hub (after a crash, or the second one at the start). */
  async addPeer(): Promise<RealWorker | undefined> {
    const make = this.target.createPeer;
    const first = this.all[0];
    if (!make || !first) return undefined;
    return this.adopt(await make.call(this.target, first, this.ctx));
  }

  get alive(): RealWorker[] {
    return this.workers.filter((w) => w.alive);
  }

  /** Any live worker's client (they all see the same hub). */
  get client(): Backend['client'] {
    const w = this.alive[0] ?? this.workers[0];
    if (!w) throw new Error('the run has no worker');
    return w.backend.client;
  }

  worker(index: number): RealWorker {
    const w = this.workers[index];
    if (!w) throw new Error(`no worker ${index}`);
    return w;
  }

  /** Crashes a worker: its in-flight work is dropped; it makes no new lock calls. */
  async crash(index: number): Promise<void> {
    const w = this.worker(index);
    w.alive = false;
    if (this.target.crash) await this.target.crash(w.backend);
    else await w.backend.service.stop({ forced: true });
  }

  /** Ends every armed fault and pause (the end of a run has no more faults). */
  clearFaults(): void {
    for (const w of this.workers) {
      this.target.clearFaults?.(w.backend);
      w.paused = false;
    }
  }

  /** Stops and closes every backend of the run (bounded, errors ignored). */
  async close(): Promise<void> {
    for (const b of [...this.all].reverse()) {
      this.target.clearFaults?.(b);
      await b.service.stop({ forced: true }).catch(() => undefined);
      await b.close().catch(() => undefined);
    }
  }
}
