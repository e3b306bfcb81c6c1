import type { Logger } from 'pino';
import { DurableTaskError, ErrorCode } from '../core/errors.ts';
import type { Tags } from '../core/history-event.ts';
import type { ParentInstance } from '../core/orchestration-instance.ts';
import { serializePayload } from '../core/payload.ts';
import {
  validateInstanceId, validateName, validateTags, validateVersion,
} from '../core/validation.ts';
import { WhenAllTask, WhenAnyTask } from './composite-task.ts';
import type { ExecutionHost } from './execution-host.ts';
import type {
  CallActivityOptions,
  CallSubOrchestrationOptions,
  ContinueAsNewOptions,
  OrchestrationContext,
  OrchestrationLogger,
  StartSubOrchestrationOptions,
  TaskResults,
  WaitForExternalEventOptions,
} from './orchestration-context.ts';
import { replaySafeLogger } from './replay-safe-logger.ts';
import { RetryPolicy } from './retry-policy.ts';
import { RetryTask } from './retry-task.ts';
import { ExternalEventTimeoutError } from './task-errors.ts';
import { Task, TimerTask } from './task.ts';
import { callOptions, optionKeys } from '../util/option-keys.ts';

function invalid(message: string): DurableTaskError {
  return new DurableTaskError(ErrorCode.INVALID_ARGUMENT, message);
}

const ACTIVITY_KEYS = optionKeys<CallActivityOptions>({ retry: true, tags: true, version: true });
const SUB_KEYS = optionKeys<CallSubOrchestrationOptions>({
  instanceId: true, retry: true, tags: true, version: true,
});
const START_SUB_KEYS = optionKeys<StartSubOrchestrationOptions>({
  instanceId: true, tags: true, version: true,
});
const WAIT_KEYS = optionKeys<WaitForExternalEventOptions>({ timeoutMs: true });
const CONTINUE_KEYS = optionKeys<ContinueAsNewOptions>({
  preserveUnprocessedEvents: true, version: true,
});

/** `options` as given: undefined or null (read as none), or an object with known names only. */
function checkOptions<T extends object>(options: T | undefined, call: string,
  known: readonly string[]): T | undefined {
  // null reads as "no options", as it did before options were checked (histories replay).
  return options === undefined || options === null ? undefined
    : callOptions(call, options, known) as T;
}

function checkTags(tags: unknown, what: string): Tags | undefined {
  return validateTags(tags, what);
}

function checkVersion(version: unknown, what: string): string {
  return validateVersion(version, what);
}

/** The `OrchestrationContext` handed to orchestrator code, backed by the executor's host. */
export class ExecutorContext implements OrchestrationContext {
  readonly #host: ExecutionHost;
  readonly log: OrchestrationLogger;

  constructor(host: ExecutionHost, logger: Logger) {
    this.#host = host;
    const started = host.started;
    this.log = replaySafeLogger(
      () => logger.child({
        instanceId: started.orchestrationInstance.instanceId,
        executionId: started.orchestrationInstance.executionId,
        orchestration: started.name,
      }),
      () => host.isReplaying,
    );
  }

  get instanceId(): string {
    return this.#host.started.orchestrationInstance.instanceId;
  }

  get executionId(): string {
    return this.#host.started.orchestrationInstance.executionId;
  }

  get name(): string {
    return this.#host.started.name;
  }

  get version(): string {
    return this.#host.started.version;
  }

  get parent(): ParentInstance | undefined {
    return this.#host.started.parentInstance;
  }

  get tags(): Tags {
    return this.#host.started.tags ?? {};
  }

  get isReplaying(): boolean {
    return this.#host.isReplaying;
  }

  get currentUtcDateTime(): Date {
    return new Date(this.#host.currentTimeMs);
  }

  callActivity<T = unknown>(name: string, input?: unknown, given?: CallActivityOptions): Task<T> {
    validateName(name, 'activity');
    const options = checkOptions(given, 'callActivity', ACTIVITY_KEYS);
    const serialized = serializePayload(input, `input of activity '${name}'`);
    const version = checkVersion(options?.version, 'activity');
    const tags = checkTags(options?.tags, 'activity');
    const attempt = (): Task<T> => this.#host.scheduleActivity<T>(name, version, serialized, tags);
    if (!options?.retry) return attempt();
    return this.#withRetry(options.retry, attempt);
  }

  callSubOrchestration<T = unknown>(
    name: string,
    input?: unknown,
    given?: CallSubOrchestrationOptions,
  ): Task<T> {
    const options = checkOptions(given, 'callSubOrchestration', SUB_KEYS);
    const start = this.#subOrchestration<T>(name, input, options, false);
    if (!options?.retry) return start();
    return this.#withRetry(options.retry, start);
  }

  startSubOrchestration(
    name: string,
    input?: unknown,
    options?: StartSubOrchestrationOptions,
  ): Task<string> {
    checkOptions(options, 'startSubOrchestration', START_SUB_KEYS);
    return this.#subOrchestration<string>(name, input, options, true)();
  }

  #subOrchestration<T>(
    name: string,
    input: unknown,
    options: StartSubOrchestrationOptions | undefined,
    fireAndForget: boolean,
  ): () => Task<T> {
    validateName(name, 'sub-orchestration');
    const serialized = serializePayload(input, `input of sub-orchestration '${name}'`);
    const version = checkVersion(options?.version, 'sub-orchestration');
    const tags = checkTags(options?.tags, 'sub-orchestration');
    const id = options?.instanceId === undefined
      ? undefined
      : validateInstanceId(options.instanceId, 'sub-orchestration instance id');
    return () => this.#host.scheduleSubOrchestration<T>(
      name, version, id, serialized, tags, fireAndForget).task;
  }

  #withRetry<T>(options: CallActivityOptions['retry'] & object, attempt: () => Task<T>): Task<T> {
    const policy = RetryPolicy.from(options);
    return new RetryTask<T>(this.#host.clock, policy, attempt, {
      now: () => this.#host.currentTimeMs,
      timer: (fireAtMs) => this.#host.scheduleTimer(fireAtMs),
    });
  }

  createTimer(fireAt: Date | number): TimerTask {
    let at: number;
    if (fireAt instanceof Date) at = fireAt.getTime();
    else if (typeof fireAt === 'number' && fireAt >= 0) at = this.#host.currentTimeMs + fireAt;
    else throw invalid(`createTimer takes a Date or a delay in ms >= 0, got ${String(fireAt)}.`);
    if (!Number.isFinite(at)) throw invalid(`createTimer got an invalid time: ${String(fireAt)}.`);
    return this.#host.scheduleTimer(at);
  }

  waitForExternalEvent<T = unknown>(name: string, options?: WaitForExternalEventOptions): Task<T> {
    validateName(name, 'external event');
    checkOptions(options, 'waitForExternalEvent', WAIT_KEYS);
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
      throw invalid('waitForExternalEvent timeoutMs must be a number >= 0, ' +
        `got ${String(timeoutMs)}.`);
    }
    const wait = this.#host.waitForEvent<T>(name);
    if (timeoutMs === undefined || wait.isCompleted) return wait;

    const result = new Task<T>(this.#host.clock);
    const timer = this.#host.scheduleTimer(this.#host.currentTimeMs + timeoutMs);
    wait.onDone(() => {
      timer.cancel();
      if (wait.isFailed) result.fail(wait.error);
      else result.complete(wait.result as T);
    });
    timer.onDone(() => {
      if (timer.isCancelled || result.isCompleted) return;
      this.#host.cancelEventWait(name, wait as Task<unknown>);
      result.fail(new ExternalEventTimeoutError(name, timeoutMs));
    });
    return result;
  }

  whenAll<const T extends readonly Task<unknown>[]>(tasks: T): Task<TaskResults<T>> {
    this.#checkTasks(tasks, 'whenAll');
    return new WhenAllTask<unknown>(this.#host.clock, tasks) as unknown as Task<TaskResults<T>>;
  }

  whenAny<const T extends readonly Task<unknown>[]>(tasks: T): Task<T[number]> {
    this.#checkTasks(tasks, 'whenAny');
    if (tasks.length === 0) {
      throw invalid('whenAny needs at least one task: an empty list would never complete.');
    }
    return new WhenAnyTask<unknown>(this.#host.clock, tasks) as Task<T[number]>;
  }

  #checkTasks(tasks: readonly unknown[], what: string): void {
    if (!Array.isArray(tasks)) throw invalid(`${what} takes an array of tasks.`);
    tasks.forEach((t, i) => {
      if (!(t instanceof Task)) throw invalid(`${what}: element ${i} is not a task.`);
    });
  }

  continueAsNew(input?: unknown, options?: ContinueAsNewOptions): void {
    checkOptions(options, 'continueAsNew', CONTINUE_KEYS);
    const serialized = serializePayload(input, 'continue-as-new input');
    const version = options?.version;
    if (version !== undefined && typeof version !== 'string') {
      throw invalid('continueAsNew version must be a string.');
    }
    this.#host.requestContinueAsNew(serialized, version, options?.preserveUnprocessedEvents);
  }

  sendEvent(instanceId: string, name: string, data?: unknown): void {
    validateInstanceId(instanceId, 'target instance id');
    validateName(name, 'event');
    const input = serializePayload(data, `data of event '${name}'`);
    this.#host.scheduleSendEvent(instanceId, name, input);
  }

  setCustomStatus(value: unknown): void {
    this.#host.setCustomStatus(serializePayload(value ?? null, 'custom status') ?? 'null');
  }

  newGuid(): string {
    return this.#host.newGuid();
  }
}
