import { PLAIN_OUTCOME } from './episode-builder.ts';
import { violation, type InvariantId } from './invariant-violation.ts';
import { completeActivityHolder, lockActivityOn } from './commands/activity-commands.ts';
import { verifyInstance } from './commands/observe.ts';
import { completeHolder, lockOn, releaseHolder } from './commands/holder-calls.ts';
import type { ModelMessage } from './model/model-types.ts';
import { missingReason } from './model/orchestration-model.ts';
import type { ServiceModel } from './model/service-model.ts';
import type { RealSystem } from './real-system.ts';

/** Rounds of the final drain on a simulated clock. */
const SIMULATED_ROUNDS = 400;
/** Rounds with nothing left and nothing handed out before the drain stops. */
const QUIET_ROUNDS = 2;

/**
 * The end of a run, with no more faults: every holder lets go, time passes
 * every deadline, and live workers lock, complete and release whatever is
 * left until nothing is. Then every message must have been consumed exactly
 * once by a committed checkpoint (orphans at most once), every activity
 * completed, and every instance's stored state must match the model.
 */
export async function drainAndCheck(m: ServiceModel, r: RealSystem): Promise<void> {
  m.step++;
  m.trace.push(`${m.step}. drain`);
  r.clearFaults();
  m.faultArmed.clear();
  for (const h of m.orch.holders) {
    if (!h.crashed && (h.state === 'held' || h.state === 'completed')) {
      await releaseHolder(m, r, h);
    }
  }
  await r.time.until(m.latestDeadline() + 1);
  m.expireDue(r.time.now());

  const deadline = Date.now() + (r.target.drainTimeoutMs ?? 60_000);
  const maxRounds = r.time.simulated ? SIMULATED_ROUNDS : Number.MAX_SAFE_INTEGER;
  let quiet = 0;
  for (let round = 0; round < maxRounds && Date.now() < deadline; round++) {
    let progressed = false;
    for (const w of r.alive) {
      const h = await lockOn(m, r, w.index, drainReceive(m, r, 'orchestration'));
      if (h) {
        progressed = true;
        await completeHolder(m, r, h, PLAIN_OUTCOME);
        await releaseHolder(m, r, h);
      }
      const a = await lockActivityOn(m, r, w.index, drainReceive(m, r, 'activity'));
      if (a) {
        progressed = true;
        await completeActivityHolder(m, r, a, true);
      }
    }
    const left = m.orch.required().length + m.act.open().length;
    quiet = !progressed && left === 0 ? quiet + 1 : 0;
    if (quiet >= QUIET_ROUNDS) break;
    if (!progressed) {
      // Let back-offs, lapses and redeliveries come due.
      await r.time.pass(r.time.simulated ? r.target.orchestrationLockMs : 100);
      m.expireDue(r.time.now());
    }
  }
  await finalCheck(m, r);
}

function drainReceive(m: ServiceModel, r: RealSystem, side: 'orchestration' | 'activity'): number {
  if (r.time.simulated) return 0;
  const now = r.time.now();
  const expect =
    side === 'orchestration' ? m.hasDeliverableOrchestration(now) : m.hasDeliverableActivity(now);
  return expect
    ? Math.min(500, r.target.receiveTimeoutMs ?? 2_000)
    : (r.target.idleReceiveTimeoutMs ?? 150);
}

async function finalCheck(m: ServiceModel, r: RealSystem): Promise<void> {
  for (const msg of m.orch.messages.values()) {
    if (msg.commits > 1) violation('INV-3', `${msg.key} was consumed ${msg.commits} times`);
    if (msg.fate !== 'pending' || msg.uncertain) continue;
    violation(
      lostInvariant(msg),
      `${msg.key} for '${msg.instanceId}' (sent at step ` +
        `${msg.step} by ${msg.origin}) was never consumed by a committed checkpoint: it was ` +
        `handed out ${msg.deliveries} time(s)${missingReason(msg)[1]}; the instance is stuck ` +
        'or the message was lost',
    );
  }
  for (const a of m.act.open()) {
    violation(
      a.returned ? 'INV-7' : 'INV-6',
      `activity ${a.key} (scheduled at step ` +
        `${a.step}) was never completed: handed out ${a.deliveries} time(s)` +
        (a.returned ? ' and given back' : ''),
    );
  }
  for (const inst of m.orch.instances.values()) {
    await verifyInstance(m, r, inst.instanceId, 'INV-6', 'at the end of the run');
  }
}

function lostInvariant(msg: ModelMessage): InvariantId {
  const [inv] = missingReason(msg);
  if (inv !== 'INV-8') return inv;
  return msg.deliveries > 0 ? 'EXACTLY-ONCE' : 'NO-STUCK';
}
