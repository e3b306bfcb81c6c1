import type { ServiceModel } from '../model/service-model.ts';
import type { RealSystem } from '../real-system.ts';
import { pick } from './observe.ts';
import { Step } from './step.ts';

/** Most crashes in one run (each adds a worker). */
export const MAX_CRASHES = 2;

/** Lets a little time pass: a fraction of half a lock on a simulated clock, or a short sleep. */
export class Advance extends Step {
  constructor(readonly fraction: number) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const now = r.time.now();
    // One advance in four stops 1 ms short of the next due time, where a timer or scheduled
    // start that fires even slightly early would show (steps on a grid would skip it).
    const due = r.time.simulated && this.fraction <= 0.25 ? nextDue(m, now) : Infinity;
    const ms = Number.isFinite(due) && due - 1 > now
      ? due - 1 - now
      : r.time.simulated
        ? (this.fraction * r.target.orchestrationLockMs) / 2
        : this.fraction * Math.min(300, r.target.orchestrationLockMs / 4);
    await r.time.pass(ms);
    m.expireDue(r.time.now());
  }

  toString(): string {
    return `advance(${this.fraction.toFixed(2)})`;
  }
}

/** The earliest due time after `now` of a message not yet consumed (Infinity: none). */
function nextDue(m: ServiceModel, now: number): number {
  let next = Infinity;
  for (const msg of m.orch.messages.values()) {
    if (msg.fate !== 'consumed' && msg.notBefore > now + 1 && msg.notBefore < next) {
      next = msg.notBefore;
    }
  }
  return next;
}

/** Lets every current lock and lease lapse (and due timers come due). */
export class ExpireLocks extends Step {
  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const lockMs = Math.max(r.target.orchestrationLockMs, r.target.activityLockMs);
    let deadline = r.time.now() + 1;
    for (const h of m.orch.holders) {
      if (h.state === 'held' || h.state === 'completed')
        deadline = Math.max(deadline, h.lockedUntil);
    }
    for (const h of m.act.holders)
      if (h.state === 'held') deadline = Math.max(deadline, h.lockedUntil);
    // Real time: a little past the deadline, so lapse sweeps and ack waits have run.
    const slack = r.time.simulated ? 1 : Math.min(1_000, lockMs / 2);
    await r.time.until(Math.min(deadline, r.time.now() + 2 * lockMs) + slack);
    m.expireDue(r.time.now());
  }

  toString(): string {
    return 'expireLocks';
  }
}

/** A worker crashes: it makes no more lock calls; its holders become zombies. */
export class Crash extends Step {
  constructor(readonly worker: number) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    if (!r.target.createPeer) return;
    const crashed = r.workers.filter((w) => !w.alive).length;
    const w = pick(r.alive, this.worker);
    if (!w || crashed >= MAX_CRASHES) return;
    await r.crash(w.index);
    m.count('crashes');
    m.faultArmed.delete(w.index);
    for (const h of m.orch.holders) {
      if (h.worker !== w.index) continue;
      h.crashed = true;
      if (m.sem.crashReleasesLocks && h.state === 'held') m.orch.giveBack(h);
    }
    for (const h of m.act.holders) {
      if (h.worker !== w.index) continue;
      h.crashed = true;
      if (m.sem.crashReleasesLocks && h.state === 'held') m.act.giveBack(h);
    }
    if (r.alive.length < Math.max(1, r.target.workers ?? 1)) await r.addPeer();
  }

  toString(): string {
    return `crash(w${this.worker})`;
  }
}

/** Arms the target's checkpoint fault on every live worker: its next checkpoint fails. */
export class ArmCheckpointFault extends Step {
  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const arm = r.target.failNextCheckpoint;
    if (!arm) return;
    for (const w of r.alive) {
      if (m.faultArmed.has(w.index)) continue;
      arm.call(r.target, w.backend);
      m.faultArmed.add(w.index);
      m.count('checkpoint faults armed');
    }
  }

  toString(): string {
    return 'failNextCheckpoints';
  }
}

/** A worker stalls: its locks and leases lapse while it stays up (stale holders follow). */
export class PauseWorker extends Step {
  constructor(readonly worker: number) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const pause = r.target.pause;
    const w = pick(r.alive, this.worker);
    if (!pause || !w || w.paused) return;
    pause.call(r.target, w.backend);
    w.paused = true;
    m.count('pauses');
  }

  toString(): string {
    return `pause(w${this.worker})`;
  }
}
