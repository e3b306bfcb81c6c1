import { newEvent } from '../../core/history-event.ts';
import { taskMessage } from '../../core/task-message.ts';
import { violation } from '../invariant-violation.ts';
import { activityKey, resultKey } from '../message-keys.ts';
import { expectCall, livenessInvariant, type CallExpectation } from '../model/call-rules.ts';
import type { ModelActivityHolder } from '../model/model-types.ts';
import type { ServiceModel } from '../model/service-model.ts';
import type { RealActivityHolder, RealSystem } from '../real-system.ts';
import { checkOnKitClock, receiveTimeout } from './holder-calls.ts';
import { attempt, movedForward, must, pick, type Outcome as CallOutcome } from './observe.ts';
import { Step } from './step.ts';

const RECENT_HOLDERS = 6;

function recent(m: ServiceModel, n: number): ModelActivityHolder | undefined {
  return pick(m.act.holders.slice(-RECENT_HOLDERS), n);
}

function realOf(r: RealSystem, h: ModelActivityHolder): RealActivityHolder {
  const rh = r.activityHolders.get(h.id);
  if (!rh) throw new Error(`kit: no activity work item for holder #${h.id}`);
  return rh;
}

export class LockActivity extends Step {
  constructor(readonly worker: number) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const w = pick(r.alive, this.worker);
    if (w) await lockActivityOn(m, r, w.index);
  }

  toString(): string {
    return `lockActivity(w${this.worker})`;
  }
}

export async function lockActivityOn(
  m: ServiceModel,
  r: RealSystem,
  index: number,
  timeoutMs?: number,
): Promise<ModelActivityHolder | undefined> {
  const w = r.worker(index);
  const timeout = timeoutMs ?? receiveTimeout(r, m.hasDeliverableActivity(r.time.now()));
  const item = await must(`lockNextActivityWorkItem on worker ${index}`, () =>
    w.backend.service.lockNextActivityWorkItem(timeout),
  );
  if (!item) return undefined;
  const tAfter = r.time.now();
  checkOnKitClock(r, item.lockedUntil.getTime(), tAfter, r.target.activityLockMs);
  if (item.taskMessage.event.type !== 'TaskScheduled') {
    violation('CONTRACT', `an activity work item holds ${item.taskMessage.event.type}`);
  }
  const h = m.act.onLocked(
    index,
    activityKey(item.taskMessage),
    item.lockedUntil.getTime(),
    tAfter,
  );
  r.activityHolders.set(h.id, { item, worker: index });
  return h;
}

function judge(
  m: ServiceModel,
  h: ModelActivityHolder,
  call: string,
  exp: CallExpectation,
  out: CallOutcome<unknown>,
): void {
  if (out.ok && exp === 'fail') {
    violation(
      'INV-7',
      `${call} by activity holder #${h.id} (${h.key}) succeeded although its ` +
        `lease was ${h.superseded ? 'taken by a later holder' : h.state}`,
    );
  }
  if (!out.ok) m.count(`${call} refused (${exp})`);
  if (!out.ok && out.kind === 'lost') {
    if (exp === 'succeed') {
      violation(
        livenessInvariant(h.renewed, 'activity'),
        `${call} by activity holder ` +
          `#${h.id} (${h.key}) failed although its lease ran until ` +
          `${new Date(h.lockedUntil).toISOString()} (now ${new Date(out.tAfter).toISOString()})`,
      );
    }
    if (h.state === 'held') m.act.giveBack(h);
    // A refusal ends a held lock; a completed holder keeps what it had (release still ends it).
    if (h.state === 'held') h.state = 'lost';
  }
}

/** Completes an activity (result or failure); a repeat must not send a second response. */
export class CompleteActivity extends Step {
  constructor(
    readonly holder: number,
    readonly succeed: boolean,
  ) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const h = recent(m, this.holder);
    if (h) await completeActivityHolder(m, r, h, this.succeed);
  }

  toString(): string {
    return `completeActivity(a${this.holder}, ${this.succeed ? 'ok' : 'failed'})`;
  }
}

export async function completeActivityHolder(
  m: ServiceModel,
  r: RealSystem,
  h: ModelActivityHolder,
  succeed: boolean,
): Promise<void> {
  const { item, worker } = realOf(r, h);
  const owner = item.taskMessage.orchestrationInstance;
  const taskId = item.taskMessage.event.eventId;
  const now = r.time.now();
  const event = succeed
    ? newEvent({ type: 'TaskCompleted', taskScheduledId: taskId, result: '"r"' }, now)
    : newEvent(
        {
          type: 'TaskFailed',
          taskScheduledId: taskId,
          reason: 'no',
          failureDetails: { errorType: 'Error', errorMessage: 'no', isNonRetriable: false },
        },
        now,
      );
  const out = await attempt(r, 'completeActivityWorkItem', () =>
    r.worker(worker).backend.service.completeActivityWorkItem(item, taskMessage(event, owner)),
  );
  const exp = expectCall(h, 'complete', out.tBefore, out.tAfter, m.sem, {
    repeatCompleteIsNoOp: true,
  });
  judge(m, h, 'completeActivity', exp, out);
  const a = m.act.activities.get(h.key);
  if (!a) return;
  const spec = {
    key: resultKey(a.executionId, a.taskId),
    instanceId: a.instanceId,
    executionId: a.executionId,
    kind: 'result' as const,
    notBefore: 0,
  };
  if (out.ok) {
    m.count('activities completed');
    if (h.state === 'held') h.state = 'completed';
    if (!a.done) {
      a.done = true;
      m.orch.send(spec, 'activity', m.step);
    }
  } else if (!m.sem.atomicActivityCompletion && !a.done) {
    // Published before the failing ack, maybe: the response may arrive (once).
    m.orch.send(spec, 'activity', m.step, true);
  }
}

export class AbandonActivity extends Step {
  constructor(readonly holder: number) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const h = recent(m, this.holder);
    if (!h) return;
    if (!m.features.staleActivityAbandons && !leaseSurelyHeld(h, r)) {
      m.note('(skipped: stale activity abandons are left out)');
      return;
    }
    const { item, worker } = realOf(r, h);
    const out = await attempt(r, 'abandonActivityWorkItem', () =>
      r.worker(worker).backend.service.abandonActivityWorkItem(item),
    );
    judge(m, h, 'abandonActivity', expectCall(h, 'abandon', out.tBefore, out.tAfter, m.sem), out);
    if (out.ok && h.state === 'held') {
      m.act.giveBack(h);
      h.state = 'abandoned';
    }
  }

  toString(): string {
    return `abandonActivity(a${this.holder})`;
  }
}

/** The holder still leases its activity, with a margin for the call on real time. */
function leaseSurelyHeld(h: ModelActivityHolder, r: RealSystem): boolean {
  const margin = r.time.simulated ? 0 : 500;
  return h.state === 'held' && !h.superseded && !h.crashed && r.time.now() + margin < h.lockedUntil;
}

export class RenewActivity extends Step {
  constructor(readonly holder: number) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const h = recent(m, this.holder);
    if (!h) return;
    const { item, worker } = realOf(r, h);
    const before = item.lockedUntil.getTime();
    const out = await attempt(r, 'renewActivityWorkItemLock', () =>
      r.worker(worker).backend.service.renewActivityWorkItemLock(item),
    );
    judge(m, h, 'renewActivity', expectCall(h, 'renew', out.tBefore, out.tAfter, m.sem), out);
    if (!out.ok) return;
    const after = out.value.lockedUntil.getTime();
    const moved = movedForward(r, h.lockSetAt, before, after, out.tAfter);
    if (!moved) {
      violation(
        'INV-5',
        `renew of activity holder #${h.id} (${h.key}) moved lockedUntil from ` +
          `${new Date(before).toISOString()} to ${new Date(after).toISOString()}`,
      );
    }
    h.lockedUntil = after;
    h.lockSetAt = out.tAfter;
    h.renewed = true;
  }

  toString(): string {
    return `renewActivity(a${this.holder})`;
  }
}

/** The activity dispatcher's usual path in one command: lock, then complete. */
export class ActivityEpisode extends Step {
  constructor(
    readonly worker: number,
    readonly succeed: boolean,
  ) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const w = pick(r.alive, this.worker);
    const h = w ? await lockActivityOn(m, r, w.index) : undefined;
    if (h) await completeActivityHolder(m, r, h, this.succeed);
  }

  toString(): string {
    return `activityEpisode(w${this.worker}, ${this.succeed ? 'ok' : 'failed'})`;
  }
}
