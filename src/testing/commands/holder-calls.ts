import { buildEpisode, type Outcome } from '../episode-builder.ts';
import { violation } from '../invariant-violation.ts';
import { eventSignature, messageKey } from '../message-keys.ts';
import { expectCall, livenessInvariant, type CallExpectation } from '../model/call-rules.ts';
import { isLiveStatus } from '../../core/orchestration-status.ts';
import type { ModelHolder, ModelInstance } from '../model/model-types.ts';
import type { ServiceModel } from '../model/service-model.ts';
import type { RealHolder, RealSystem } from '../real-system.ts';
import {
  attempt,
  describe,
  movedForward,
  must,
  pick,
  verifyInstance,
  type Outcome as CallOutcome,
} from './observe.ts';

// The calls of an orchestration work-item holder, each checked against the model:
// lock, renew, complete, abandon and release. Commands and the final drain use them.

/** How many of the latest orchestration holders a command may pick from. */
const RECENT_HOLDERS = 6;

export function recentHolder(m: ServiceModel, n: number): ModelHolder | undefined {
  return pick(m.orch.holders.slice(-RECENT_HOLDERS), n);
}

export function realOf(r: RealSystem, h: ModelHolder): RealHolder {
  const rh = r.holders.get(h.id);
  if (!rh) throw new Error(`kit: no work item for holder #${h.id}`);
  return rh;
}

/** One orchestration lock call on worker `index`; the checked holder, or undefined. */
export async function lockOn(
  m: ServiceModel,
  r: RealSystem,
  index: number,
  timeoutMs?: number,
): Promise<ModelHolder | undefined> {
  const w = r.worker(index);
  const timeout = timeoutMs ?? receiveTimeout(r, m.hasDeliverableOrchestration(r.time.now()));
  const tBefore = r.time.now();
  const item = await must(`lockNextOrchestrationWorkItem on worker ${index}`, () =>
    w.backend.service.lockNextOrchestrationWorkItem(timeout),
  );
  const tAfter = r.time.now();
  if (!item) {
    m.note('-> none');
    return undefined;
  }
  m.count('locks');
  checkOnKitClock(r, item.lockedUntil.getTime(), tAfter, r.target.orchestrationLockMs);
  const keys = item.newMessages.map(messageKey);
  if (keys.some((k) => k.startsWith('timer:'))) m.count('timers delivered');
  const h = m.orch.onLocked(
    index,
    item.instanceId,
    keys,
    item.lockedUntil.getTime(),
    tBefore,
    tAfter,
  );
  const state = item.orchestrationRuntimeState;
  m.note(`-> h${h.id} '${item.instanceId}' [${keys.join(' ')}]`);
  r.holders.set(h.id, {
    item,
    worker: index,
    past: [...state.events],
    customStatus: state.customStatus,
  });
  const inst = m.orch.instances.get(item.instanceId)!;
  const handed = state.events.map(eventSignature);
  if (handed.join() !== inst.history.join() && !recreation(m, inst, keys, handed)) {
    violation(
      'INV-6',
      `the work item of '${item.instanceId}' carries a history that differs ` +
        `from the committed one.\n  handed:    ${handed.join(', ') || '(none)'}\n  committed: ` +
        `${inst.history.join(', ') || '(none)'}`,
    );
  }
  return h;
}

/**
 * A finished instance handed out with an empty history and a parent's start
 * first in the batch: the backend re-creates it at lock time (the model lets
 * it drop such a start too).
 */
function recreation(
  m: ServiceModel,
  inst: ModelInstance,
  keys: readonly string[],
  handed: readonly string[],
): boolean {
  const first = keys[0] === undefined ? undefined : m.orch.messages.get(keys[0]);
  return handed.length === 0 && !isLiveStatus(inst.status) && first?.recreates === true;
}

/**
 * A lock far from the simulated clock's time means the backend reads another
 * clock: say so, rather than blame an invariant for what follows from it.
 */
export function checkOnKitClock(r: RealSystem, lockedUntil: number, now: number,
  lockMs: number): void {
  if (!r.time.simulated || Math.abs(lockedUntil - now) <= 10 * lockMs + 60_000) return;
  violation(
    'CONTRACT',
    `a work item's lock runs until ${new Date(lockedUntil).toISOString()} while the kit's ` +
      `clock reads ${new Date(now).toISOString()}: build the backend with the \`clock\` ` +
      'the kit passes to createBackend, and the same lock lengths',
  );
}

export function receiveTimeout(r: RealSystem, expectWork: boolean): number {
  if (r.time.simulated) return 0;
  return expectWork ? (r.target.receiveTimeoutMs ?? 2_000) : (r.target.idleReceiveTimeoutMs ?? 150);
}

/** Checks a holder call's outcome against the rule book; updates the holder when lost. */
export function judge(
  m: ServiceModel,
  h: ModelHolder,
  call: string,
  exp: CallExpectation,
  out: CallOutcome<unknown>,
): void {
  if (out.ok && exp === 'fail') {
    violation(
      'INV-2',
      `${call} by holder #${h.id} of '${h.instanceId}' succeeded although ` +
        `its lock was ${staleReason(h)}; a stale holder must fail and change nothing`,
    );
  }
  if (!out.ok) m.count(`${call} refused (${exp})`);
  if (!out.ok && out.kind === 'lost') {
    if (exp === 'succeed' && h.faulted) {
      violation(
        'INV-6',
        `${call} by holder #${h.id} of '${h.instanceId}' was refused after its checkpoint ` +
          `failed: the failed checkpoint changed the lock (${describe(out.error)})`,
      );
    }
    if (exp === 'succeed') {
      violation(
        livenessInvariant(h.renewed, 'orchestration'),
        `${call} by holder #${h.id} of ` +
          `'${h.instanceId}' failed with ${String((out.error as Error).message)} although its ` +
          `lock ran until ${new Date(h.lockedUntil).toISOString()} ` +
          `(now ${new Date(out.tAfter).toISOString()})`,
      );
    }
    if (h.state === 'held') m.orch.giveBack(h);
    // A refusal ends a held lock; a completed holder keeps what it had (release still ends it).
    if (h.state === 'held') h.state = 'lost';
  }
}

function staleReason(h: ModelHolder): string {
  if (h.superseded) return 'taken by a later holder';
  if (h.crashed) return 'dropped when its worker crashed';
  return `already ${h.state}`;
}

export async function renewHolder(m: ServiceModel, r: RealSystem, h: ModelHolder): Promise<void> {
  const { item, worker } = realOf(r, h);
  const before = item.lockedUntil.getTime();
  const out = await attempt(r, 'renewOrchestrationWorkItemLock', () =>
    r.worker(worker).backend.service.renewOrchestrationWorkItemLock(item),
  );
  const exp = expectCall(h, 'renew', out.tBefore, out.tAfter, m.sem);
  m.note(out.ok ? `-> h${h.id} renewed` : `-> h${h.id} refused (${exp})`);
  judge(m, h, 'renew', exp, out);
  if (!out.ok) return;
  const after = item.lockedUntil.getTime();
  const moved = movedForward(r, h.lockSetAt, before, after, out.tAfter);
  if (!moved) {
    violation(
      'INV-5',
      `renew of holder #${h.id} ('${h.instanceId}') at ` +
        `${new Date(out.tAfter).toISOString()} moved lockedUntil from ` +
        `${new Date(before).toISOString()} to ${new Date(after).toISOString()}`,
    );
  }
  h.lockedUntil = after;
  h.lockSetAt = out.tAfter;
  h.renewed = true;
}

export async function completeHolder(
  m: ServiceModel,
  r: RealSystem,
  h: ModelHolder,
  outcome: Outcome,
): Promise<boolean> {
  const rh = realOf(r, h);
  const instances = [...m.orch.instances.values()];
  const episode = buildEpisode({
    instanceId: h.instanceId,
    messages: rh.item.newMessages,
    past: rh.past,
    customStatus: rh.customStatus,
    now: r.time.now(),
    outcome,
    targets: instances.map((i) => i.instanceId),
    liveTargets: m.orch.liveInstances
      .map((i) => i.instanceId)
      .filter((id) => m.features.selfStarts || id !== h.instanceId),
    timerBaseMs: r.target.orchestrationLockMs,
    ids: {
      execution: () => m.nextExecutionId(),
      event: () => m.nextEventName(),
      child: () => m.nextChildId(),
    },
  });
  rh.item.orchestrationRuntimeState = episode.original;
  const out = await attempt(
    r,
    'completeOrchestrationWorkItem',
    () =>
      r
        .worker(rh.worker)
        .backend.service.completeOrchestrationWorkItem(rh.item, episode.completion),
    { model: m, worker: rh.worker },
  );
  const exp = expectCall(h, 'complete', out.tBefore, out.tAfter, m.sem);
  m.note(out.ok ? `-> h${h.id} committed` : `-> h${h.id} refused (${exp})`);
  if (out.ok) {
    judge(m, h, 'complete', exp, out);
    m.count(episode.plan.discard ? 'discarded' : `committed ${outcome.end}`);
    m.orch.applyCommit(h, episode.plan, m.step, out.tAfter);
    for (const a of episode.plan.activities) {
      m.act.add(h.instanceId, a.executionId, a.taskId, m.step);
    }
    await verifyInstance(m, r, h.instanceId, 'INV-6', `after the checkpoint of holder #${h.id}`);
    return true;
  }
  if (out.kind === 'fault') {
    m.count('checkpoint faults hit');
    m.orch.faultedBatch(h);
    h.faulted = true;
  }
  // A refused checkpoint must have changed nothing (checked first: it explains more).
  await verifyInstance(
    m,
    r,
    h.instanceId,
    exp === 'fail' ? 'INV-2' : 'INV-6',
    `after the refused checkpoint of holder #${h.id} (${describe(out.error)})`,
  );
  judge(m, h, 'complete', exp, out);
  return false;
}

export async function abandonHolder(m: ServiceModel, r: RealSystem, h: ModelHolder): Promise<void> {
  const { item, worker } = realOf(r, h);
  const out = await attempt(r, 'abandonOrchestrationWorkItem', () =>
    r.worker(worker).backend.service.abandonOrchestrationWorkItem(item),
  );
  const exp = expectCall(h, 'abandon', out.tBefore, out.tAfter, m.sem);
  m.note(out.ok ? `-> h${h.id} abandoned` : `-> h${h.id} refused (${exp})`);
  judge(m, h, 'abandon', exp, out);
  if (out.ok && h.state === 'held') {
    m.orch.giveBack(h);
    h.state = 'abandoned';
  }
  await verifyInstance(
    m,
    r,
    h.instanceId,
    exp === 'fail' ? 'INV-2' : 'INV-6',
    `after abandon by holder #${h.id}`,
  );
}

export async function releaseHolder(m: ServiceModel, r: RealSystem, h: ModelHolder): Promise<void> {
  const { item, worker } = realOf(r, h);
  await must(`releaseOrchestrationWorkItem of holder #${h.id}`, () =>
    r.worker(worker).backend.service.releaseOrchestrationWorkItem(item),
  );
  if (h.state === 'held') m.orch.giveBack(h);
  h.state = 'released';
}
