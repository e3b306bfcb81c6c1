import type { Backend } from '../../../src/core/backend.ts';
import { DurableTaskError, isDurableTaskError } from '../../../src/core/errors.ts';
import { newEvent } from '../../../src/core/history-event.ts';
import type { OrchestrationService } from '../../../src/core/orchestration-service.ts';
import type { TaskMessage } from '../../../src/core/task-message.ts';
import type {
  ActivityWorkItem,
  OrchestrationCompletion,
  OrchestrationWorkItem,
} from '../../../src/core/work-item.ts';
import type { InvariantId } from '../../../src/testing/invariant-violation.ts';
import type { BackendContext, ConformanceTarget } from '../../../src/testing/conformance-target.ts';
import { DelegatingService } from './delegating-service.ts';
import { memoryTarget } from './targets.ts';

/**
 * Deliberately broken memory backends, each wrong in one way a real backend
 * could be, and the invariant that must catch it.
 */
export const BREAKAGES = {
  /** Hands an instance out again while its work item is still held. */
  'double-hand-out': 'INV-1',
  /** Reports success to a holder whose lock was lost instead of refusing it. */
  'no-fence-on-commit': 'INV-2',
  /** A checkpoint leaves one event of its batch behind (it is delivered again). */
  'checkpoint-leaves-a-message': 'INV-3',
  /** Abandon consumes the batch instead of giving it back. */
  'lose-batch-on-abandon': 'INV-4',
  /** Renew succeeds but leaves the holder's deadline where it was. */
  'renew-without-extending': 'INV-5',
  /** A failing checkpoint acks (consumes) its batch before it fails. */
  'ack-before-commit': 'INV-6',
  /** Hands an activity out again while it is still leased. */
  'double-activity': 'INV-7',
  /** Delivers each batch in reverse order. */
  'reverse-batch': 'INV-8',
  /** Makes every timer due at once. */
  'early-timers': 'INV-9',
  /** Makes every timer due 40 ms before its time. */
  'slightly-early-timers': 'INV-9',
} as const satisfies Record<string, InvariantId>;

export type Breakage = keyof typeof BREAKAGES;

const ORIGINAL = new WeakMap<Backend, Backend>();

/** The memory target with every backend wrapped in one breakage. */
export function brokenMemoryTarget(breakage: Breakage): ConformanceTarget {
  const base = memoryTarget();
  const armed = new WeakSet<Backend>();
  const wrap = (inner: Backend, ctx: BackendContext): Backend => {
    const now = (): number => ctx.clock?.now() ?? Date.now();
    const outer: Backend = {
      kind: inner.kind,
      client: inner.client,
      close: () => inner.close(),
      service: breakService(
        inner.service,
        inner.client,
        breakage,
        now,
        () => armed.has(outer),
        () => armed.delete(outer),
      ),
    };
    ORIGINAL.set(outer, inner);
    return outer;
  };
  return {
    ...base,
    createBackend: async (ctx) => wrap(await base.createBackend(ctx), ctx),
    createPeer: async (of, ctx) => wrap(await base.createPeer!(ORIGINAL.get(of) ?? of, ctx), ctx),
    crash: (b) => b.service.stop({ forced: true }),
    failNextCheckpoint: (b) => {
      if (breakage === 'ack-before-commit') armed.add(b);
      else base.failNextCheckpoint!(ORIGINAL.get(b) ?? b);
    },
    clearFaults: (b) => {
      armed.delete(b);
      base.clearFaults!(ORIGINAL.get(b) ?? b);
    },
  };
}

function breakService(
  inner: OrchestrationService,
  client: Backend['client'],
  breakage: Breakage,
  now: () => number,
  isArmed: () => boolean,
  disarm: () => void,
): OrchestrationService {
  switch (breakage) {
    case 'double-hand-out':
      return new DoubleHandOut(inner, now);
    case 'no-fence-on-commit':
      return new NoFence(inner);
    case 'checkpoint-leaves-a-message':
      return new CheckpointLeavesAMessage(inner, client);
    case 'lose-batch-on-abandon':
      return new LoseBatchOnAbandon(inner);
    case 'renew-without-extending':
      return new RenewWithoutExtending(inner);
    case 'ack-before-commit':
      return new AckBeforeCommit(inner, isArmed, disarm);
    case 'double-activity':
      return new DoubleActivity(inner);
    case 'reverse-batch':
      return new ReverseBatch(inner);
    case 'early-timers':
      return new EarlyTimers(inner);
    case 'slightly-early-timers':
      return new SlightlyEarlyTimers(inner);
  }
}

/** A completion that persists nothing and consumes the batch (the discard case). */
function discardOf(item: OrchestrationWorkItem): OrchestrationCompletion {
  return {
    newRuntimeState: item.orchestrationRuntimeState,
    activityMessages: [],
    orchestratorMessages: [],
    timerMessages: [],
    continuedAsNewMessage: null,
    orchestrationState: null,
  };
}

class DoubleHandOut extends DelegatingService {
  private readonly held = new Set<OrchestrationWorkItem>();

  constructor(
    inner: OrchestrationService,
    private readonly now: () => number,
  ) {
    super(inner);
  }

  override async lockNextOrchestrationWorkItem(
    ms: number,
    signal?: AbortSignal,
  ): Promise<OrchestrationWorkItem | null> {
    const item = await this.inner.lockNextOrchestrationWorkItem(ms, signal);
    if (item) {
      this.held.add(item);
      return item;
    }
    // Nothing new: hand out again a work item whose lock has not lapsed yet.
    const again = [...this.held].reverse().find((h) => h.lockedUntil.getTime() > this.now());
    return again ? { ...again } : null;
  }

  private forget(item: OrchestrationWorkItem): void {
    for (const h of this.held) if (h.lockToken === item.lockToken) this.held.delete(h);
  }

  override async completeOrchestrationWorkItem(
    item: OrchestrationWorkItem,
    c: OrchestrationCompletion,
  ): Promise<void> {
    this.forget(item);
    await this.inner.completeOrchestrationWorkItem(item, c);
  }

  override async abandonOrchestrationWorkItem(item: OrchestrationWorkItem): Promise<void> {
    this.forget(item);
    await this.inner.abandonOrchestrationWorkItem(item);
  }

  override async releaseOrchestrationWorkItem(item: OrchestrationWorkItem): Promise<void> {
    this.forget(item);
    await this.inner.releaseOrchestrationWorkItem(item);
  }
}

class NoFence extends DelegatingService {
  override async completeOrchestrationWorkItem(
    item: OrchestrationWorkItem,
    c: OrchestrationCompletion,
  ): Promise<void> {
    try {
      await this.inner.completeOrchestrationWorkItem(item, c);
    } catch (err) {
      if (!isDurableTaskError(err, 'LOCK_LOST')) throw err;
    }
  }
}

class CheckpointLeavesAMessage extends DelegatingService {
  constructor(
    inner: OrchestrationService,
    private readonly client: Backend['client'],
  ) {
    super(inner);
  }

  override async completeOrchestrationWorkItem(
    item: OrchestrationWorkItem,
    c: OrchestrationCompletion,
  ): Promise<void> {
    await this.inner.completeOrchestrationWorkItem(item, c);
    // The last event of the batch is not removed: it is queued again.
    const left = item.newMessages.findLast((m) => m.event.type === 'EventRaised');
    if (left) await this.client.sendOrchestrationMessage(left);
  }
}

class LoseBatchOnAbandon extends DelegatingService {
  override async abandonOrchestrationWorkItem(item: OrchestrationWorkItem): Promise<void> {
    await this.inner.completeOrchestrationWorkItem(item, discardOf(item));
  }
}

class RenewWithoutExtending extends DelegatingService {
  override async renewOrchestrationWorkItemLock(item: OrchestrationWorkItem): Promise<void> {
    const before = item.lockedUntil;
    await this.inner.renewOrchestrationWorkItemLock(item);
    item.lockedUntil = before;
  }
}

class AckBeforeCommit extends DelegatingService {
  constructor(
    inner: OrchestrationService,
    private readonly armed: () => boolean,
    private readonly disarm: () => void,
  ) {
    super(inner);
  }

  override async completeOrchestrationWorkItem(
    item: OrchestrationWorkItem,
    c: OrchestrationCompletion,
  ): Promise<void> {
    if (!this.armed()) return this.inner.completeOrchestrationWorkItem(item, c);
    this.disarm();
    // Acks first, then "fails to commit": the batch is gone though nothing was persisted.
    await this.inner.completeOrchestrationWorkItem(item, discardOf(item));
    throw new DurableTaskError('BACKEND_ERROR', 'the commit failed after the batch was acked');
  }
}

class DoubleActivity extends DelegatingService {
  private readonly held = new Set<ActivityWorkItem>();

  override async lockNextActivityWorkItem(
    ms: number,
    signal?: AbortSignal,
  ): Promise<ActivityWorkItem | null> {
    const item = await this.inner.lockNextActivityWorkItem(ms, signal);
    if (item) {
      this.held.add(item);
      return item;
    }
    const again = [...this.held].at(-1);
    return again ? { ...again } : null;
  }

  override async completeActivityWorkItem(item: ActivityWorkItem, r: TaskMessage): Promise<void> {
    for (const h of this.held) if (h.lockToken === item.lockToken) this.held.delete(h);
    await this.inner.completeActivityWorkItem(item, r);
  }

  override async abandonActivityWorkItem(item: ActivityWorkItem): Promise<void> {
    for (const h of this.held) if (h.lockToken === item.lockToken) this.held.delete(h);
    await this.inner.abandonActivityWorkItem(item);
  }
}

class ReverseBatch extends DelegatingService {
  override async lockNextOrchestrationWorkItem(
    ms: number,
    signal?: AbortSignal,
  ): Promise<OrchestrationWorkItem | null> {
    const item = await this.inner.lockNextOrchestrationWorkItem(ms, signal);
    if (item) item.newMessages = [...item.newMessages].reverse();
    return item;
  }
}

class EarlyTimers extends DelegatingService {
  override completeOrchestrationWorkItem(
    item: OrchestrationWorkItem,
    c: OrchestrationCompletion,
  ): Promise<void> {
    const at = item.orchestrationRuntimeState.events.at(-1)?.timestamp ?? new Date(0).toISOString();
    const timerMessages = c.timerMessages.map((m) =>
      m.event.type !== 'TimerFired'
        ? m
        : {
            ...m,
            event: newEvent(
              { type: 'TimerFired', timerId: m.event.timerId, fireAt: at },
              Date.parse(at),
            ),
          },
    );
    return this.inner.completeOrchestrationWorkItem(item, { ...c, timerMessages });
  }
}

class SlightlyEarlyTimers extends DelegatingService {
  override completeOrchestrationWorkItem(
    item: OrchestrationWorkItem,
    c: OrchestrationCompletion,
  ): Promise<void> {
    const timerMessages = c.timerMessages.map((m) => {
      if (m.event.type !== 'TimerFired') return m;
      const fireAt = new Date(Date.parse(m.event.fireAt) - 40).toISOString();
      return { ...m, event: { ...m.event, fireAt } };
    });
    return this.inner.completeOrchestrationWorkItem(item, { ...c, timerMessages });
  }
}
