import { quantile, round } from './stats.ts';

/** Timings of one wrapped async method. */
export interface StageStats {
  calls: number;
  inFlight: number;
  maxInFlight: number;
  readonly samples: number[];
}

/**
 * Wraps async methods of live objects to time each call and track how many
 * run at once (profiling aid; only used by `--profile` style runs and NOTES).
 * Wrapping sets an own property, so it shadows the prototype method for this
 * instance only and is undone by `restore()`.
 */
export class Instrument {
  readonly stages = new Map<string, StageStats>();
  private readonly undo: (() => void)[] = [];

  wrap(target: object, method: string, label: string): void {
    const obj = target as Record<string, unknown>;
    const original = obj[method];
    if (typeof original !== 'function') throw new Error(`${label}: ${method} is not a method`);
    const hadOwn = Object.prototype.hasOwnProperty.call(obj, method);
    const stats = this.stage(label);
    const fn = original as (...a: unknown[]) => unknown;
    obj[method] = function wrapped(this: unknown, ...args: unknown[]): unknown {
      const t0 = performance.now();
      stats.calls++;
      stats.inFlight++;
      if (stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight;
      const done = (): void => {
        stats.inFlight--;
        if (stats.samples.length < 200_000) stats.samples.push(performance.now() - t0);
      };
      let out: unknown;
      try {
        out = fn.apply(this, args);
      } catch (err) {
        done();
        throw err;
      }
      if (out && typeof (out as Promise<unknown>).then === 'function') {
        return (out as Promise<unknown>).finally(done);
      }
      done();
      return out;
    };
    this.undo.push(() => {
      if (hadOwn) obj[method] = original;
      else delete obj[method];
    });
  }

  private stage(label: string): StageStats {
    let s = this.stages.get(label);
    if (!s) {
      s = { calls: 0, inFlight: 0, maxInFlight: 0, samples: [] };
      this.stages.set(label, s);
    }
    return s;
  }

  reset(): void {
    for (const s of this.stages.values()) {
      s.calls = 0;
      s.maxInFlight = s.inFlight;
      s.samples.length = 0;
    }
  }

  /** One row per stage: calls, mean / p50 / p99 ms, most calls in flight at once. */
  report(perInstances: number): Record<string, unknown>[] {
    const rows: Record<string, unknown>[] = [];
    for (const [label, s] of this.stages) {
      if (s.calls === 0) continue;
      const sum = s.samples.reduce((a, b) => a + b, 0);
      rows.push({
        stage: label,
        per_instance: round(s.calls / perInstances, 2),
        mean_ms: round(sum / Math.max(1, s.samples.length), 3),
        p50_ms: round(quantile(s.samples, 0.5), 3),
        p99_ms: round(quantile(s.samples, 0.99), 3),
        max_in_flight: s.maxInFlight,
      });
    }
    return rows;
  }

  restore(): void {
    for (const u of this.undo.splice(0).reverse()) u();
  }
}
