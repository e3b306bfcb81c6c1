import { failureFromError } from '../../../src/core/failure-details.ts';
import { newEvent, type HistoryEvent } from '../../../src/core/history-event.ts';
import type { OrchestrationState } from '../../../src/core/orchestration-state.ts';
import { OrchestrationRuntimeState } from '../../../src/core/runtime-state.ts';
import { taskMessage, type TaskMessage } from '../../../src/core/task-message.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import type { Orchestrator } from '../../../src/runtime/orchestration-context.ts';
import { runEpisode, type EpisodeOutcome } from '../../../src/runtime/orchestration-episode.ts';
import {
  OrchestrationExecutor,
  type ExecutionResult,
} from '../../../src/runtime/orchestration-executor.ts';

/**
 * A tiny, synchronous stand-in for a backend, used to drive orchestrators
 * through real episodes in unit tests: one queue per instance, activities
 * run inline, timers fire when the simulated clock reaches them.
 */
export interface HarnessOptions {
  readonly orchestrators: Record<string, Orchestrator>;
  readonly activities?: Record<string, (input: any, attempt: number) => unknown>;
  /** Keep executors between episodes (extended sessions). */
  readonly cacheExecutors?: boolean;
  /** Split when more than this many messages are produced in one episode. */
  readonly maxMessages?: number;
  readonly behaviour?: 'carryover' | 'ignore';
}

interface Timer {
  readonly due: number;
  readonly message: TaskMessage;
}

export class EpisodeHarness {
  now = Date.parse('2024-01-01T00:00:00.000Z');
  readonly histories = new Map<string, HistoryEvent[]>();
  readonly states = new Map<string, OrchestrationState>();
  readonly queues = new Map<string, TaskMessage[]>();
  readonly outcomes: EpisodeOutcome[] = [];
  readonly activityCalls: { name: string; input: unknown }[] = [];
  readonly executorRuns: { instanceId: string; replayed: number; fresh: boolean }[] = [];
  readonly #timers: Timer[] = [];
  readonly #cache = new Map<string, OrchestrationExecutor>();
  readonly #attempts = new Map<string, number>();
  #ids = 0;

  constructor(readonly options: HarnessOptions) {}

  start(name: string, input: unknown, instanceId = `i${this.#ids++}`): string {
    const executionId = `e${this.#ids++}`;
    const start = newEvent({
      type: 'ExecutionStarted', orchestrationInstance: { instanceId, executionId }, name,
      version: '', input: input === undefined ? undefined : JSON.stringify(input),
    }, this.now);
    this.#send(taskMessage(start, { instanceId, executionId }));
    return instanceId;
  }

  send(instanceId: string, event: HistoryEvent): void {
    this.#send(taskMessage(event, { instanceId }));
  }

  raise(instanceId: string, name: string, data?: unknown): void {
    this.send(instanceId, newEvent({
      type: 'EventRaised', name, input: data === undefined ? undefined : JSON.stringify(data),
    }, this.now));
  }

  #send(m: TaskMessage): void {
    const q = this.queues.get(m.orchestrationInstance.instanceId);
    if (q) q.push(m);
    else this.queues.set(m.orchestrationInstance.instanceId, [m]);
  }

  /** Runs episodes (firing timers when idle) until nothing is left; bounded. */
  async run(maxEpisodes = 5000, untilMs = Infinity): Promise<void> {
    for (let i = 0; i < maxEpisodes; i++) {
      const next = [...this.queues.entries()].find(([, q]) => q.length > 0);
      if (next) {
        const [id, q] = next;
        this.queues.set(id, []);
        await this.episode(id, q);
        continue;
      }
      this.#timers.sort((a, b) => a.due - b.due);
      const timer = this.#timers[0];
      if (!timer || timer.due > untilMs) return;
      this.#timers.shift();
      this.now = Math.max(this.now, timer.due);
      this.#send(timer.message);
    }
    throw new Error('harness: too many episodes');
  }

  async episode(instanceId: string, batch: TaskMessage[]): Promise<EpisodeOutcome> {
    this.now += 1;
    const history = this.histories.get(instanceId) ?? [];
    const state = new OrchestrationRuntimeState(history,
      this.states.get(instanceId)?.customStatus ?? undefined);
    const used: OrchestrationExecutor[] = [];
    const outcome = await runEpisode({ instanceId, newMessages: batch,
      orchestrationRuntimeState: state }, {
      now: () => this.now,
      logger: silentLogger(),
      newExecutionId: () => `e${this.#ids++}`,
      isMaxMessageCountExceeded: (n) => this.options.maxMessages !== undefined &&
        n > this.options.maxMessages,
      eventBehaviourForContinueAsNew: this.options.behaviour ?? 'carryover',
      execute: (s) => this.#execute(instanceId, s, used),
    });
    this.outcomes.push(outcome);
    const c = outcome.completion;
    if (c.orchestrationState === null) return outcome;
    this.histories.set(instanceId, [...c.newRuntimeState.events]);
    this.states.set(instanceId, c.orchestrationState);
    const last = used.at(-1);
    const key = this.#key(c.newRuntimeState);
    if (this.options.cacheExecutors && last && !last.isCompleted && !outcome.interrupted && key) {
      last.advance(c.newRuntimeState.events);
      this.#cache.set(instanceId, last);
    } else {
      this.#cache.delete(instanceId);
    }
    for (const m of c.orchestratorMessages) this.#send(m);
    for (const m of c.timerMessages) {
      const e = m.event;
      if (e.type === 'TimerFired') this.#timers.push({ due: Date.parse(e.fireAt), message: m });
    }
    for (const m of c.activityMessages) this.#runActivity(m);
    return outcome;
  }

  #key(s: OrchestrationRuntimeState): string | undefined {
    return s.orchestrationInstance?.executionId;
  }

  #execute(instanceId: string, s: OrchestrationRuntimeState,
    used: OrchestrationExecutor[]): ExecutionResult {
    const cached = this.#cache.get(instanceId);
    if (cached && cached.processedEventCount === s.pastEvents.length &&
      s.pastEvents.length > 0 && used.length === 0) {
      used.push(cached);
      this.executorRuns.push({ instanceId, replayed: 0, fresh: false });
      return cached.resume(s.newEvents);
    }
    const fn = this.options.orchestrators[s.name];
    if (!fn) throw new Error(`no orchestrator ${s.name}`);
    const ex = new OrchestrationExecutor(fn, {
      eventBehaviourForContinueAsNew: this.options.behaviour ?? 'carryover',
    });
    used.push(ex);
    this.executorRuns.push({ instanceId, replayed: s.pastEvents.length, fresh: true });
    return ex.execute(s.pastEvents, s.newEvents);
  }

  #runActivity(m: TaskMessage): void {
    const e = m.event;
    if (e.type !== 'TaskScheduled') throw new Error('not an activity message');
    const owner = m.orchestrationInstance;
    const input = e.input === undefined ? undefined : JSON.parse(e.input);
    this.activityCalls.push({ name: e.name, input });
    const key = `${e.name}`;
    const attempt = (this.#attempts.get(key) ?? 0) + 1;
    this.#attempts.set(key, attempt);
    const fn = this.options.activities?.[e.name];
    let response: HistoryEvent;
    try {
      if (!fn) throw new Error(`no activity ${e.name}`);
      const out = fn(input, attempt);
      response = newEvent({ type: 'TaskCompleted', taskScheduledId: e.eventId,
        result: out === undefined ? undefined : JSON.stringify(out) }, this.now);
    } catch (err) {
      const failureDetails = failureFromError(err);
      response = newEvent({ type: 'TaskFailed', taskScheduledId: e.eventId,
        reason: failureDetails.errorMessage, failureDetails }, this.now);
    }
    this.#send(taskMessage(response, owner));
  }

  state(instanceId: string): OrchestrationState {
    const s = this.states.get(instanceId);
    if (!s) throw new Error(`no state for ${instanceId}`);
    return s;
  }

  output(instanceId: string): unknown {
    const o = this.state(instanceId).output;
    return o === undefined ? undefined : JSON.parse(o);
  }

  /** History events of the current execution, by type. */
  count(instanceId: string, type: HistoryEvent['type']): number {
    return (this.histories.get(instanceId) ?? []).filter((e) => e.type === type).length;
  }
}
