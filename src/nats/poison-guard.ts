import { failExecution } from '../core/backend-endings.ts';
import { describeMessage, poisonFailure, poisonReason } from '../core/dead-letter.ts';
import type { OrchestrationCompletion, OrchestrationWorkItem } from '../core/work-item.ts';
import type { Logger } from '../logging/logger.ts';
import { deadLettered } from '../logging/nats-events.ts';
import { publishDeadLetter } from './dead-letters.ts';
import type { HubResources } from './hub-resources.ts';
import type { HeldMessage } from './partition-runtime.ts';
import { encodeJson, toWireMessage } from './wire.ts';

/**
 * The poison rule for orchestration messages (design 4, 9.15). A held
 * message's failed deliveries are the server's earlier deliveries (a holder
 * that died or whose partition moved) plus the work items holding it here
 * that failed (abandoned as a failure, or lapsed). A batch with a message at
 * `maxDeliveries` is not handed out: those messages are copied to
 * `DT_H_DEAD`, and the instance's live execution is failed by a checkpoint
 * of its own (the parent hears of it); the batch is consumed.
 */
export class PoisonGuard {
  private readonly failures = new WeakMap<HeldMessage, number>();

  constructor(private readonly res: HubResources, private readonly log: Logger) {}

  /** Counts a failed work item holding these messages. */
  failed(batch: readonly HeldMessage[]): void {
    for (const m of batch) this.failures.set(m, (this.failures.get(m) ?? 0) + 1);
  }

  /** Failed deliveries of a held message so far. */
  deliveries(m: HeldMessage): number {
    return Math.max(0, m.js.info.deliveryCount - 1) + (this.failures.get(m) ?? 0);
  }

  /** The messages of a batch at the limit (empty for a healthy batch). */
  poisoned(batch: readonly HeldMessage[]): HeldMessage[] {
    const max = this.res.options.maxDeliveries;
    let out: HeldMessage[] | undefined;
    for (const m of batch) {
      if (this.deliveries(m) >= max) (out ??= []).push(m);
    }
    return out ?? [];
  }

  /**
   * Dead-letters `poisoned` and settles the locked work item with the
   * checkpoint that fails its execution (or, with no live execution, one
   * that only consumes the batch). `commit` is the engine's checkpoint.
   */
  async settle(item: OrchestrationWorkItem, poisoned: readonly HeldMessage[],
    partition: number, token: string,
    commit: (completion: OrchestrationCompletion) => Promise<void>): Promise<void> {
    const max = this.res.options.maxDeliveries;
    for (const m of poisoned) {
      const deliveries = this.deliveries(m);
      const reason = poisonReason(deliveries, max);
      await publishDeadLetter(this.res, 'orch', partition, token,
        encodeJson(toWireMessage(m.message)), { reason, seq: m.seq, deliveries });
      deadLettered(this.log, { stream: this.res.names.orchStream, seq: m.seq,
        instanceId: item.instanceId, deliveries, reason });
    }
    const first = poisoned[0] as HeldMessage;
    const failure = poisonFailure(describeMessage(first.message), this.deliveries(first), max);
    const now = this.res.options.clock.now();
    const ended = failExecution(item.orchestrationRuntimeState.events, item.newMessages, failure,
      now);
    const state = ended?.runtimeState ?? item.orchestrationRuntimeState;
    await commit({
      newRuntimeState: state,
      activityMessages: [],
      orchestratorMessages: ended?.orchestratorMessages ?? [],
      timerMessages: [],
      continuedAsNewMessage: null,
      orchestrationState: ended?.state ?? null,
    });
  }
}
