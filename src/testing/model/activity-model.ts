import { violation } from '../invariant-violation.ts';
import { activityKeyOf } from '../message-keys.ts';
import { iso } from './orchestration-model.ts';
import type { BackendSemantics, ModelActivity, ModelActivityHolder } from './model-types.ts';

/**
 * Activities (one `TaskScheduled` message each) and their holders: INV-7,
 * the lease rules of INV-1..5 applied to single activity messages.
 */
export class ActivityModel {
  readonly activities = new Map<string, ModelActivity>();
  readonly holders: ModelActivityHolder[] = [];
  private nextHolder = 0;

  constructor(readonly sem: BackendSemantics) {}

  /** A committed checkpoint scheduled an activity. */
  add(instanceId: string, executionId: string, taskId: number, step: number): ModelActivity {
    const a: ModelActivity = {
      key: activityKeyOf(executionId, taskId),
      instanceId,
      executionId,
      taskId,
      step,
      done: false,
      returned: false,
      deliveries: 0,
    };
    this.activities.set(a.key, a);
    return a;
  }

  /** Checks an activity work item handed out by `tAfter` and records its holder. */
  onLocked(worker: number, key: string, lockedUntil: number, tAfter: number): ModelActivityHolder {
    const a = this.activities.get(key);
    if (!a)
      violation(
        'INV-6',
        `activity ${key} was handed out, but no committed checkpoint ` +
          'scheduled it (an effect of a failed call leaked)',
      );
    if (a.done)
      violation(
        'INV-7',
        `activity ${key} was handed out again after a completion ` + 'was accepted for it',
      );
    for (const h of this.holders) {
      if (h.key !== key || !this.protects(h) || h.lockedUntil <= tAfter) continue;
      violation(
        'INV-7',
        `activity ${key} was handed out to worker ${worker} while holder ` +
          `#${h.id} (worker ${h.worker}) held it until ${iso(h.lockedUntil)}; now ${iso(tAfter)}`,
      );
    }
    for (const h of this.holders) {
      if (h.key === key && (h.state === 'held' || h.state === 'completed')) {
        h.superseded = true;
        h.state = 'lost';
      }
    }
    a.deliveries++;
    const holder: ModelActivityHolder = {
      id: this.nextHolder++,
      worker,
      key,
      lockedUntil,
      state: 'held',
      superseded: false,
      crashed: false,
      renewed: false,
      lockSetAt: tAfter,
    };
    this.holders.push(holder);
    return holder;
  }

  private protects(h: ModelActivityHolder): boolean {
    if (h.superseded || (h.crashed && this.sem.crashReleasesLocks)) return false;
    return h.state === 'held';
  }

  /** Activities whose completion has not been accepted yet. */
  open(): ModelActivity[] {
    return [...this.activities.values()].filter((a) => !a.done);
  }

  hasDeliverable(now: number): boolean {
    for (const a of this.activities.values()) {
      if (a.done) continue;
      const held = this.holders.some(
        (h) => h.key === a.key && this.protects(h) && h.lockedUntil > now,
      );
      if (!held) return true;
    }
    return false;
  }

  giveBack(h: ModelActivityHolder): void {
    const a = this.activities.get(h.key);
    if (a && !a.done) a.returned = true;
  }

  expireDue(now: number): void {
    for (const h of this.holders) if (h.state === 'held' && h.lockedUntil <= now) this.giveBack(h);
  }
}
