import type { Outcome } from '../episode-builder.ts';
import type { ModelHolder } from '../model/model-types.ts';
import type { ServiceModel } from '../model/service-model.ts';
import type { RealSystem } from '../real-system.ts';
import { pick } from './observe.ts';
import {
  abandonHolder,
  completeHolder,
  lockOn,
  releaseHolder,
  renewHolder,
} from './holder-calls.ts';
import { Step } from './step.ts';

/** Lock attempts while waiting for another holder to take the instance over. */
const TAKEOVER_ATTEMPTS = 8;

export type StaleCall = 'complete' | 'renew' | 'abandon';

/**
 * A stale holder in one command, since random sequences seldom line it up
 * on real time: lock an instance, let the lock lapse (optionally with the
 * holder's worker stalled, so another worker takes its lease over), wait
 * until a later holder gets the instance, then let the first holder try to
 * complete, renew or abandon. It must fail and change nothing (INV-2).
 */
export class StaleHolder extends Step {
  constructor(
    readonly worker: number,
    readonly call: StaleCall,
    readonly viaPause: boolean,
    readonly outcome: Outcome,
  ) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const w = pick(r.alive, this.worker);
    const h = w ? await lockOn(m, r, w.index) : undefined;
    if (!w || !h) return;
    if (this.viaPause && r.target.pause && !w.paused && r.alive.length > 1) {
      r.target.pause(w.backend);
      w.paused = true;
      m.count('pauses');
      m.note('(paused)');
    }
    await r.time.until(h.lockedUntil + (r.time.simulated ? 1 : 250));
    m.expireDue(r.time.now());
    await waitForTakeover(m, r, h);
    m.count(h.superseded ? 'stale holder taken over' : 'stale holder not taken over');
    if (this.call === 'complete') await completeHolder(m, r, h, this.outcome);
    else if (this.call === 'renew') await renewHolder(m, r, h);
    else await abandonHolder(m, r, h);
  }

  toString(): string {
    return `staleHolder(w${this.worker}, ${this.call}${this.viaPause ? ', paused' : ''})`;
  }
}

/** Locks on the live workers until a later holder has `h`'s instance (bounded). */
async function waitForTakeover(m: ServiceModel, r: RealSystem, h: ModelHolder): Promise<void> {
  // Other instances that come first are kept aside, then given back.
  const aside: ModelHolder[] = [];
  for (let i = 0; i < TAKEOVER_ATTEMPTS && !h.superseded; i++) {
    for (const w of [...r.alive].sort((a, b) => Number(a.paused) - Number(b.paused))) {
      const other = await lockOn(m, r, w.index);
      if (other && other.instanceId !== h.instanceId) aside.push(other);
      if (h.superseded) break;
    }
    if (h.superseded) break;
    await r.time.pass(r.time.simulated ? r.target.orchestrationLockMs / 4 : 250);
    m.expireDue(r.time.now());
  }
  for (const other of aside) await releaseHolder(m, r, other);
}
