import { failureFromError } from '../../../src/core/failure-details.ts';
import { newEvent, type HistoryEvent } from '../../../src/core/history-event.ts';
import type { OrchestrationState } from '../../../src/core/orchestration-state.ts';
import { OrchestrationRuntimeState } from '../../../src/core/runtime-state.ts';
import { taskMessage, type TaskMessage } from '../../../src/core/task-message.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import type { Orchestrator } from '../../../src/runtime/orchestration-context.ts';
import { runEpisode } from '../../../src/runtime/orchestration-episode.ts';
import {
  OrchestrationExecutor,
  type ExecutionResult,
} from '../../../src/runtime/orchestration-executor.ts';

/** One executor pass as the live run made it: its input and what it decided. */
export interface RecordedPass {
  readonly past: readonly HistoryEvent[];
  readonly fresh: readonly HistoryEvent[];
  readonly result: ExecutionResult;
  /** Served by a cached executor (extended session) rather than a fresh replay. */
  readonly cached: boolean;
}

export interface DriverOptions {
  readonly orchestrator: Orchestrator;
  readonly input: unknown;
  /** Activity behaviour: a result, or a thrown error (the activity fails). */
  readonly activity: (input: unknown) => unknown;
  /** External events to raise, in this order, each at a point the choices pick. */
  readonly events?: readonly { readonly name: string; readonly data: unknown }[];
  /** Random choices (generated): batching, delivery order, when to raise, caching. */
  readonly choices: readonly number[];
  /** Keep executors between episodes (extended sessions) when a choice says so. */
  readonly mayCache?: boolean;
}

const INSTANCE = 'prop';
const T0 = Date.parse('2030-06-01T00:00:00.000Z');

/**
 * A minimal single-instance backend for runtime properties: the episode code
 * of the runtime (`runEpisode`) with real executors, where generated choices
 * decide how messages are batched, in which order responses, timers and
 * events arrive, and whether a cached executor serves the next episode.
 * Every executor pass is recorded so that it can be replayed afterwards.
 */
export class EpisodeDriver {
  history: HistoryEvent[] = [];
  state: OrchestrationState | undefined;
  readonly passes: RecordedPass[] = [];
  /** Executions seen at checkpoints (one episode may run several through continue-as-new). */
  readonly executions: string[] = [];
  private queue: TaskMessage[] = [];
  /** Messages that will arrive, in an order the choices pick. */
  private pool: { message: TaskMessage; due: number }[] = [];
  private events: { name: string; data: unknown }[];
  private now = T0;
  private next = 0;
  private ids = 0;
  private cache: OrchestrationExecutor | undefined;

  constructor(private readonly o: DriverOptions) {
    this.events = [...(o.events ?? [])];
  }

  private choose(n: number): number {
    if (n <= 1) return 0;
    const c = this.o.choices[this.next++ % Math.max(1, this.o.choices.length)] ?? 0;
    return c % n;
  }

  /** Runs until the instance finished or nothing is left (bounded). */
  async run(maxSteps = 2_000): Promise<void> {
    const executionId = this.newId();
    this.executions.push(executionId);
    this.queue.push(
      taskMessage(
        newEvent(
          {
            type: 'ExecutionStarted',
            orchestrationInstance: { instanceId: INSTANCE, executionId },
            name: 'Prop',
            version: '',
            input: JSON.stringify(this.o.input),
          },
          this.now,
        ),
        { instanceId: INSTANCE, executionId },
      ),
    );
    for (let step = 0; step < maxSteps; step++) {
      if (this.finished && this.queue.length === 0 && this.pool.length === 0) return;
      const arrivals = this.pool.length + this.events.length;
      const episodeNow = this.queue.length > 0 && (arrivals === 0 || this.choose(3) === 0);
      if (episodeNow) await this.episode();
      else if (arrivals > 0) this.arrive();
      else return;
    }
    throw new Error('episode driver: too many steps');
  }

  get finished(): boolean {
    const s = this.state?.orchestrationStatus;
    return s === 'Completed' || s === 'Failed' || s === 'Terminated';
  }

  private newId(): string {
    return `ex${this.ids++}`;
  }

  /** One message arrives: an activity result, a due timer, or the next external event. */
  private arrive(): void {
    const pick = this.choose(this.pool.length + (this.events.length > 0 ? 1 : 0));
    if (pick === this.pool.length) {
      const e = this.events.shift()!;
      this.queue.push(
        taskMessage(
          newEvent({ type: 'EventRaised', name: e.name, input: JSON.stringify(e.data) }, this.now),
          { instanceId: INSTANCE },
        ),
      );
      return;
    }
    const [arrival] = this.pool.splice(pick, 1);
    this.now = Math.max(this.now, arrival!.due);
    this.queue.push(arrival!.message);
  }

  private async episode(): Promise<void> {
    this.now += 1_000;
    const batch = this.queue.splice(0, 1 + this.choose(this.queue.length));
    const state = new OrchestrationRuntimeState(this.history, this.state?.customStatus);
    const useCache = this.o.mayCache === true && this.choose(2) === 0;
    let last: OrchestrationExecutor | undefined;
    const outcome = await runEpisode(
      { instanceId: INSTANCE, newMessages: batch, orchestrationRuntimeState: state },
      {
        now: () => this.now,
        logger: silentLogger(),
        newExecutionId: () => this.newId(),
        isMaxMessageCountExceeded: () => false,
        eventBehaviourForContinueAsNew: 'carryover',
        execute: (s) => {
          const past = [...s.pastEvents];
          const fresh = [...s.newEvents];
          const cached = this.cache;
          this.cache = undefined;
          let result: ExecutionResult;
          if (useCache && cached && cached.processedEventCount === past.length && past.length > 0) {
            last = cached;
            result = cached.resume(fresh);
          } else {
            last = new OrchestrationExecutor(this.o.orchestrator);
            result = last.execute(past, fresh);
          }
          this.passes.push({ past, fresh, result, cached: last === cached });
          return result;
        },
      },
    );
    const c = outcome.completion;
    if (c.orchestrationState === null) return;
    this.history = [...c.newRuntimeState.events];
    this.state = c.orchestrationState;
    const exec = c.orchestrationState.orchestrationInstance.executionId;
    if (this.executions.at(-1) !== exec) this.executions.push(exec);
    if (last && !last.isCompleted && !outcome.interrupted && outcome.executions === 1) {
      last.advance(this.history);
      this.cache = last;
    }
    for (const m of c.activityMessages) this.pool.push(this.respond(m));
    for (const m of c.timerMessages) {
      const e = m.event;
      if (e.type === 'TimerFired') this.pool.push({ message: m, due: Date.parse(e.fireAt) });
    }
  }

  private respond(m: TaskMessage): { message: TaskMessage; due: number } {
    const e = m.event;
    if (e.type !== 'TaskScheduled') throw new Error('not an activity');
    let event: HistoryEvent;
    try {
      const out = this.o.activity(e.input === undefined ? undefined : JSON.parse(e.input));
      event = newEvent(
        { type: 'TaskCompleted', taskScheduledId: e.eventId, result: JSON.stringify(out ?? null) },
        this.now,
      );
    } catch (err) {
      const failureDetails = failureFromError(err);
      event = newEvent(
        {
          type: 'TaskFailed',
          taskScheduledId: e.eventId,
          reason: failureDetails.errorMessage,
          failureDetails,
        },
        this.now,
      );
    }
    return { message: taskMessage(event, m.orchestrationInstance), due: 0 };
  }

  /** Every execution an executor ran, in order (continue-as-new adds one each time). */
  executionIds(): string[] {
    const ids: string[] = [];
    for (const p of this.passes) {
      const started = [...p.past, ...p.fresh].find((e) => e.type === 'ExecutionStarted');
      const id =
        started?.type === 'ExecutionStarted'
          ? started.orchestrationInstance.executionId
          : undefined;
      if (id !== undefined && ids.at(-1) !== id) ids.push(id);
    }
    return ids;
  }

  /** The output of the finished instance, parsed. */
  output(): unknown {
    const o = this.state?.output;
    return o === undefined ? undefined : JSON.parse(o);
  }
}
