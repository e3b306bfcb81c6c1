import { isLiveStatus, type OrchestrationStatus } from '../../core/orchestration-status.ts';
import { violation, type InvariantId } from '../invariant-violation.ts';
import { startKey, type MessageKind } from '../message-keys.ts';
import type {
  BackendSemantics,
  MessageOrigin,
  ModelHolder,
  ModelInstance,
  ModelMessage,
} from './model-types.ts';

/** A message the model is told about (client send, checkpoint outbound, activity response). */
export interface MessageSpec {
  readonly key: string;
  readonly instanceId: string;
  readonly executionId: string | undefined;
  readonly kind: MessageKind;
  readonly notBefore: number;
  /** For a start: the execution it starts and the parent (a sub-orchestration). */
  readonly start?: { readonly executionId: string; readonly parent?: ModelInstance['parent'] };
}

/** What a committed checkpoint did, as the kit built it. */
export interface CommitPlan {
  /** The batch was thrown away in reconciliation: consume it, persist nothing. */
  readonly discard: boolean;
  readonly executionId: string;
  readonly previousExecutionId: string;
  readonly status: OrchestrationStatus;
  /** Signatures of the current execution's whole history after the commit. */
  readonly history: readonly string[];
  readonly nextActionId: number;
  /** Messages to orchestration queues (other instances, timers to self), in send order. */
  readonly outbound: readonly MessageSpec[];
  /** Activities scheduled (owner execution and task id). */
  readonly activities: readonly { readonly executionId: string; readonly taskId: number }[];
}

/**
 * Instances, their messages and the orchestration holders. Methods that take
 * an observation check it against the model first (throwing an
 * `InvariantViolation`) and then update the model.
 */
export class OrchestrationModel {
  readonly instances = new Map<string, ModelInstance>();
  readonly messages = new Map<string, ModelMessage>();
  readonly holders: ModelHolder[] = [];
  private nextHolder = 0;
  /** Holders taken over by a later lock of their instance (coverage). */
  superseded = 0;

  constructor(readonly sem: BackendSemantics) {}

  get liveInstances(): ModelInstance[] {
    return [...this.instances.values()].filter((i) => isLiveStatus(i.status));
  }

  /** A new instance (client create or sub-orchestration start) with its start message. */
  addInstance(
    instanceId: string,
    executionId: string,
    step: number,
    opts: {
      readonly root: boolean;
      readonly notBefore: number;
      readonly origin: MessageOrigin;
      readonly parent?: ModelInstance['parent'];
    },
  ): ModelInstance {
    const inst: ModelInstance = {
      instanceId,
      executionId,
      status: 'Pending',
      history: [],
      nextActionId: 0,
      root: opts.root,
      parent: opts.parent,
      queue: [],
    };
    this.instances.set(instanceId, inst);
    this.record(
      {
        key: startKey(executionId),
        instanceId,
        executionId,
        kind: 'start',
        notBefore: opts.notBefore,
      },
      opts.origin,
      step,
      'pending',
    );
    return inst;
  }

  /** A message was sent (its send call or commit returned): decide its fate and queue it. */
  send(spec: MessageSpec, origin: MessageOrigin, step: number, uncertain = false): ModelMessage {
    const known = this.messages.get(spec.key);
    if (known) {
      // The same message again (a retried send): it stays one message.
      if (!uncertain) known.uncertain = false;
      return known;
    }
    const target = this.instances.get(spec.instanceId);
    if (spec.kind === 'start' && spec.start && !target) {
      this.addInstance(spec.instanceId, spec.start.executionId, step, {
        root: false,
        notBefore: spec.notBefore,
        origin,
        parent: spec.start.parent,
      });
      return this.messages.get(spec.key) as ModelMessage;
    }
    const deliverable =
      target !== undefined &&
      spec.kind !== 'start' &&
      isLiveStatus(target.status) &&
      (spec.executionId === undefined || spec.executionId === target.executionId);
    const m = this.record(spec, origin, step, deliverable ? 'pending' : 'orphaned');
    m.uncertain = uncertain;
    const parent = spec.start?.parent?.instanceId;
    m.recreates = spec.kind === 'start' && parent !== undefined && parent !== spec.instanceId;
    return m;
  }

  private record(
    spec: MessageSpec,
    origin: MessageOrigin,
    step: number,
    fate: ModelMessage['fate'],
  ): ModelMessage {
    const m: ModelMessage = {
      key: spec.key,
      instanceId: spec.instanceId,
      executionId: spec.executionId,
      kind: spec.kind,
      origin,
      notBefore: spec.notBefore,
      step,
      fate,
      commits: 0,
      deliveries: 0,
      returned: false,
      uncertain: false,
      faulted: false,
      bypassed: false,
      recreates: false,
    };
    this.messages.set(m.key, m);
    this.instances.get(spec.instanceId)?.queue.push(m.key);
    return m;
  }

  /**
   * Checks a work item handed out at some time in [tBefore, tAfter] (INV-1,
   * INV-3, INV-4, INV-6, INV-8, INV-9) and records its holder.
   */
  onLocked(
    worker: number,
    instanceId: string,
    keys: readonly string[],
    lockedUntil: number,
    tBefore: number,
    tAfter: number,
  ): ModelHolder {
    const inst = this.instances.get(instanceId);
    if (!inst)
      violation('CONTRACT', `a work item was handed out for unknown instance ` + `'${instanceId}'`);
    if (keys.length === 0) violation('CONTRACT', `the work item of '${instanceId}' is empty`);
    for (const h of this.holders) {
      if (h.instanceId !== instanceId || !this.protects(h) || h.lockedUntil <= tAfter) continue;
      violation(
        'INV-1',
        `instance '${instanceId}' was handed out to worker ${worker} while ` +
          `holder #${h.id} (worker ${h.worker}, state ${h.state}) held it until ` +
          `${iso(h.lockedUntil)}; now ${iso(tAfter)}`,
      );
    }
    const seen = new Set<string>();
    for (const key of keys) {
      if (seen.has(key)) violation('INV-3', `message ${key} appears twice in one work item`);
      seen.add(key);
      const m = this.messages.get(key);
      if (!m)
        violation(
          'INV-6',
          `work item of '${instanceId}' holds ${key}, which no ` +
            'committed step sent (an effect of a failed call leaked)',
        );
      if (m.instanceId !== instanceId)
        violation('CONTRACT', `${key} for '${m.instanceId}' ` + `was delivered to '${instanceId}'`);
      if (m.fate === 'consumed') {
        violation(
          m.kind === 'result' ? 'INV-7' : 'INV-3',
          `${key} was delivered again after ` +
            `a committed checkpoint consumed it (${m.commits} commit(s))`,
        );
      }
      if (m.notBefore > tAfter)
        violation(
          'INV-9',
          `${key} was delivered at ${iso(tAfter)}, ` + `before its due time ${iso(m.notBefore)}`,
        );
    }
    this.checkOrder(inst, keys);
    for (const h of this.holders) {
      if (h.instanceId !== instanceId) continue;
      if (h.state === 'held' || h.state === 'completed') {
        this.superseded++;
        h.superseded = true;
        if (h.state === 'held') this.giveBack(h);
        h.state = 'lost';
      }
    }
    for (const key of keys) (this.messages.get(key) as ModelMessage).deliveries++;
    const holder: ModelHolder = {
      id: this.nextHolder++,
      worker,
      instanceId,
      batch: [...keys],
      lockedAt: tAfter,
      lockedUntil,
      state: 'held',
      superseded: false,
      crashed: false,
      renewed: false,
      lockSetAt: tAfter,
      faulted: false,
    };
    this.holders.push(holder);
    return holder;
  }

  /** A holder that can still keep others out (INV-1). */
  private protects(h: ModelHolder): boolean {
    if (h.superseded || (h.crashed && this.sem.crashReleasesLocks)) return false;
    return h.state === 'held' || h.state === 'completed';
  }

  /**
   * INV-8 (per-instance FIFO) and INV-4 (a returned batch comes back first):
   * the batch's messages, timers aside, must be the oldest messages still
   * waiting for the instance, in enqueue order. Orphaned and uncertain
   * messages may be skipped. Timers are ordered by their firing, which the
   * model does not see, so only their due time is checked (INV-9).
   */
  private checkOrder(inst: ModelInstance, keys: readonly string[]): void {
    const waiting = inst.queue.filter((k) => {
      const m = this.messages.get(k) as ModelMessage;
      return m.fate !== 'consumed' && m.kind !== 'timer';
    });
    let at = 0;
    for (const key of keys) {
      const m = this.messages.get(key) as ModelMessage;
      if (m.kind === 'timer') continue;
      for (; at < waiting.length && waiting[at] !== key; at++) {
        const skipped = this.messages.get(waiting[at] as string) as ModelMessage;
        if (skipped.fate === 'orphaned' || skipped.uncertain) continue;
        // Later in the same batch: delivered out of order; absent: missing.
        const [inv, why] = keys.includes(skipped.key)
          ? ['INV-8' as const, ', which comes ' + 'later in the batch']
          : missingReason(skipped);
        violation(
          inv,
          `the work item of '${inst.instanceId}' delivered ${key} but skipped ` +
            `the older ${skipped.key}${why} (batch ${keys.join(', ')})`,
        );
      }
      if (at === waiting.length) {
        violation(
          'INV-8',
          `${key} was delivered out of enqueue order for ` +
            `'${inst.instanceId}' (batch ${keys.join(', ')}; waiting ${waiting.join(', ')})`,
        );
      }
      at++;
    }
  }

  /** The holder's batch is deliverable again (abandon, release, lapse, crash). */
  giveBack(h: ModelHolder): void {
    for (const key of h.batch) {
      const m = this.messages.get(key);
      if (m && m.fate !== 'consumed') m.returned = true;
    }
  }

  /** Time moved to `now`: holders whose lock lapsed gave their batch back. */
  expireDue(now: number): void {
    for (const h of this.holders) {
      if (h.state === 'held' && h.lockedUntil <= now) this.giveBack(h);
    }
  }

  /** A committed checkpoint: consume the batch, move the instance on, queue the outbound. */
  applyCommit(h: ModelHolder, plan: CommitPlan, step: number, now: number): void {
    const batch = new Set(h.batch);
    for (const key of this.instances.get(h.instanceId)?.queue ?? []) {
      const m = this.messages.get(key) as ModelMessage;
      if (!batch.has(key) && m.fate === 'pending' && m.notBefore <= now) m.bypassed = true;
    }
    for (const key of h.batch) {
      const m = this.messages.get(key) as ModelMessage;
      m.commits++;
      if (m.commits > 1) violation('INV-3', `${key} was consumed by ${m.commits} checkpoints`);
      m.fate = 'consumed';
    }
    h.state = 'completed';
    if (plan.discard) return;
    const inst = this.instances.get(h.instanceId) as ModelInstance;
    inst.executionId = plan.executionId;
    inst.status = plan.status;
    inst.history = [...plan.history];
    inst.nextActionId = plan.nextActionId;
    const live = isLiveStatus(plan.status);
    for (const key of inst.queue) {
      const m = this.messages.get(key) as ModelMessage;
      if (m.fate !== 'pending') continue;
      if (!live || (m.executionId !== undefined && m.executionId !== plan.executionId)) {
        m.fate = 'orphaned';
      }
    }
    for (const spec of plan.outbound) this.send(spec, 'checkpoint', step);
  }

  /** A failed checkpoint held these messages: they must come back. */
  faultedBatch(h: ModelHolder): void {
    for (const key of h.batch) {
      const m = this.messages.get(key);
      if (m && m.fate !== 'consumed') m.faulted = true;
    }
  }

  /** Messages that must still be consumed. */
  required(): ModelMessage[] {
    return [...this.messages.values()].filter((m) => m.fate === 'pending' && !m.uncertain);
  }

  /** True when some instance has a message that is due and nobody holds the instance. */
  hasDeliverable(now: number): boolean {
    for (const m of this.messages.values()) {
      if (m.fate !== 'pending' || m.notBefore > now) continue;
      const held = this.holders.some(
        (h) => h.instanceId === m.instanceId && this.protects(h) && h.lockedUntil > now,
      );
      if (!held) return true;
    }
    return false;
  }
}

export function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/**
 * The invariant most likely broken when a message that must come is missing
 * (skipped by a later batch, or never consumed), and why.
 */
export function missingReason(m: ModelMessage): [InvariantId, string] {
  if (m.faulted) return ['INV-6', ', which was in the batch of a checkpoint that failed'];
  if (m.returned) return ['INV-4', ', which was in a batch that had been given back'];
  if (m.bypassed && m.deliveries === 0) {
    return ['INV-3', ', which a committed checkpoint did not hold (consumed outside its batch?)'];
  }
  if (m.deliveries === 0 && m.origin === 'checkpoint') {
    return ['INV-6', ', which a committed checkpoint sent'];
  }
  if (m.deliveries === 0 && m.origin === 'activity') {
    return ['INV-7', ', the response of an accepted activity completion'];
  }
  return ['INV-8', ''];
}
