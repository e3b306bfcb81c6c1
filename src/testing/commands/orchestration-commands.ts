import type { Outcome } from '../episode-builder.ts';
import type { ServiceModel } from '../model/service-model.ts';
import type { RealSystem } from '../real-system.ts';
import {
  abandonHolder,
  completeHolder,
  lockOn,
  recentHolder,
  releaseHolder,
  renewHolder,
} from './holder-calls.ts';
import { pick } from './observe.ts';
import { Step } from './step.ts';

/** Locks the next orchestration work item on a live worker and checks it. */
export class LockOrchestration extends Step {
  constructor(readonly worker: number) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const w = pick(r.alive, this.worker);
    if (!w) return;
    await lockOn(m, r, w.index);
  }

  toString(): string {
    return `lock(w${this.worker})`;
  }
}

export class Renew extends Step {
  constructor(readonly holder: number) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const h = recentHolder(m, this.holder);
    if (h) await renewHolder(m, r, h);
  }

  toString(): string {
    return `renew(h${this.holder})`;
  }
}

/** Checkpoints a held work item with a generated outcome. */
export class Complete extends Step {
  constructor(
    readonly holder: number,
    readonly outcome: Outcome,
  ) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const h = recentHolder(m, this.holder);
    if (h) await completeHolder(m, r, h, this.outcome);
  }

  toString(): string {
    return `complete(h${this.holder}, ${describeOutcome(this.outcome)})`;
  }
}

export class Abandon extends Step {
  constructor(readonly holder: number) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const h = recentHolder(m, this.holder);
    if (h) await abandonHolder(m, r, h);
  }

  toString(): string {
    return `abandon(h${this.holder})`;
  }
}

export class Release extends Step {
  constructor(readonly holder: number) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const h = recentHolder(m, this.holder);
    if (h) await releaseHolder(m, r, h);
  }

  toString(): string {
    return `release(h${this.holder})`;
  }
}

/** The dispatcher's usual path in one command: lock, checkpoint, release. */
export class Episode extends Step {
  constructor(
    readonly worker: number,
    readonly outcome: Outcome,
  ) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const w = pick(r.alive, this.worker);
    const h = w ? await lockOn(m, r, w.index) : undefined;
    if (!h) return;
    await completeHolder(m, r, h, this.outcome);
    await releaseHolder(m, r, h);
  }

  toString(): string {
    return `episode(w${this.worker}, ${describeOutcome(this.outcome)})`;
  }
}

/** A short description of an outcome for traces and counterexamples. */
export function describeOutcome(o: Outcome): string {
  const parts: string[] = [o.end];
  if (o.activities) parts.push(`${o.activities}act`);
  if (o.timers.length) parts.push(`${o.timers.length}timer`);
  if (o.sends.length) parts.push(`send${o.sends.join('/')}`);
  if (o.child) parts.push('child');
  if (o.duplicateStart !== undefined) parts.push(`dupstart${o.duplicateStart}`);
  return parts.join(' ');
}
