import { ActivityModel } from './activity-model.ts';
import type { BackendSemantics } from './model-types.ts';
import { OrchestrationModel } from './orchestration-model.ts';

/** Optional shapes of generated work (all on by default). */
export interface GeneratorFeatures {
  /** A checkpoint may send a (duplicate) start to its own instance. */
  readonly selfStarts: boolean;
  /**
   * An activity holder may abandon after it completed, was superseded or its
   * lease ran out (it must then fail and change nothing).
   */
  readonly staleActivityAbandons: boolean;
}

export const ALL_FEATURES: GeneratorFeatures = { selfStarts: true, staleActivityAbandons: true };

/**
 * The whole model of one run: orchestration side, activity side, the ids
 * the kit mints, and a trace of the commands run (for failure reports).
 */
export class ServiceModel {
  readonly orch: OrchestrationModel;
  readonly act: ActivityModel;
  /** Number of the command being run (1-based). */
  step = 0;
  /** Workers with an armed checkpoint fault: their next checkpoint may fail (BACKEND_ERROR). */
  readonly faultArmed = new Set<number>();
  readonly trace: string[] = [];
  /** How often interesting things happened (coverage of a run). */
  readonly stats = new Map<string, number>();
  private ids = { instance: 0, exec: 0, event: 0, child: 0 };

  constructor(
    readonly sem: BackendSemantics,
    readonly run: number,
    readonly features: GeneratorFeatures = ALL_FEATURES,
  ) {
    this.orch = new OrchestrationModel(sem);
    this.act = new ActivityModel(sem);
  }

  /** Adds a remark to the current step's trace line. */
  note(text: string): void {
    const last = this.trace.length - 1;
    if (last >= 0) this.trace[last] += ` ${text}`;
  }

  count(what: string): void {
    this.stats.set(what, (this.stats.get(what) ?? 0) + 1);
  }

  nextInstanceId(): string {
    return `i${this.ids.instance++}`;
  }

  nextChildId(): string {
    return `c${this.ids.child++}`;
  }

  nextExecutionId(): string {
    return `x${this.run.toString(36)}n${(this.ids.exec++).toString(36)}`;
  }

  nextEventName(): string {
    return `e${this.ids.event++}`;
  }

  /** Time moved to `now`: lapsed holders gave their work back. */
  expireDue(now: number): void {
    this.orch.expireDue(now);
    this.act.expireDue(now);
  }

  hasDeliverableOrchestration(now: number): boolean {
    return this.orch.hasDeliverable(now);
  }

  hasDeliverableActivity(now: number): boolean {
    return this.act.hasDeliverable(now);
  }

  /** Latest deadline of a due time or lock the model knows (messages, holders). */
  latestDeadline(): number {
    let t = 0;
    for (const m of this.orch.messages.values()) if (m.fate === 'pending') t = max(t, m.notBefore);
    for (const h of this.orch.holders) if (h.state === 'held') t = max(t, h.lockedUntil);
    for (const h of this.act.holders) if (h.state === 'held') t = max(t, h.lockedUntil);
    return t;
  }
}

function max(a: number, b: number): number {
  return Number.isFinite(b) && b > a ? b : a;
}
