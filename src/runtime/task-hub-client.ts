import type { Logger } from 'pino';
import type { Backend } from '../core/backend.ts';
import type { DeadLetter, DeadLetterQuery } from '../core/dead-letter.ts';
import { DurableTaskError, ErrorCode, isDurableTaskError } from '../core/errors.ts';
import { MAX_ERROR_MESSAGE_CHARS } from '../core/failure-details.ts';
import { newEvent, type HistoryEvent, type Tags } from '../core/history-event.ts';
import type {
  OrchestrationQuery,
  OrchestrationQueryResult,
  OrchestrationServiceClient,
  PurgeInstanceFilter,
  PurgeResult,
} from '../core/orchestration-service-client.ts';
import type { OrchestrationState } from '../core/orchestration-state.ts';
import { isOrchestrationStatus, type OrchestrationStatus } from '../core/orchestration-status.ts';
import { serializePayload } from '../core/payload.ts';
import { taskMessage } from '../core/task-message.ts';
import {
  validateInstanceId, validateName, validateTags, validateTimeoutMs, validateVersion,
} from '../core/validation.ts';
import { silentLogger } from '../logging/logger.ts';
import {
  describeValue, hostOptions, OptionChecks,
} from '../util/option-checks.ts';
import { booleanOption, callOptions, checkKnownKeys, optionKeys } from '../util/option-keys.ts';
import { newId32 } from './ids.ts';

export interface TaskHubClientOptions {
  /** The backend to talk to; or give `client` alone. */
  readonly backend?: Pick<Backend, 'client'>;
  readonly client?: OrchestrationServiceClient;
  /** @default a silent logger */
  readonly logger?: Logger;
}

export interface CreateOrchestrationInstanceOptions {
  /** Any JSON-serializable value. */
  readonly input?: unknown;
  /** @default 32 random hex digits */
  readonly instanceId?: string;
  /** @default '' */
  readonly version?: string;
  readonly tags?: Tags;
  /** Keep the instance Pending until this time. */
  readonly startAt?: Date;
  /**
   * Statuses of an existing instance with this id that make the create fail (`INSTANCE_EXISTS`).
   */
  readonly dedupeStatuses?: readonly OrchestrationStatus[] | null;
  /** An event raised right after the start (delivered after it). */
  readonly initialEvent?: { readonly name: string; readonly data?: unknown };
}

export interface WaitForOrchestrationOptions {
  /** Wait for this execution (ContinuedAsNew then counts as final); absent: follow the latest. */
  readonly executionId?: string;
  /** @default 30000 */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** What a client object must offer. */
const CLIENT_METHODS = ['createOrchestration', 'sendOrchestrationMessage',
  'waitForOrchestration', 'getOrchestrationState', 'queryInstances'];

const CLIENT_KEYS = optionKeys<TaskHubClientOptions>({ backend: true, client: true,
  logger: true });
const CREATE_KEYS = optionKeys<CreateOrchestrationInstanceOptions>({ input: true,
  instanceId: true, version: true, tags: true, startAt: true, dedupeStatuses: true,
  initialEvent: true });
const INITIAL_EVENT_KEYS = ['name', 'data'];
const WAIT_KEYS = optionKeys<WaitForOrchestrationOptions>({ executionId: true,
  timeoutMs: true, signal: true });
const EXECUTION_KEYS = ['executionId'];
const RECURSIVE_KEYS = ['recursive'];
const QUERY_KEYS = optionKeys<OrchestrationQuery>({ runtimeStatus: true,
  createdTimeFrom: true, createdTimeTo: true, instanceIdPrefix: true, name: true,
  pageSize: true, continuationToken: true, fetchInputsAndOutputs: true });
const PURGE_FILTER_KEYS = optionKeys<PurgeInstanceFilter>({ createdTimeFrom: true,
  createdTimeTo: true, runtimeStatus: true, timeoutMs: true });
const DEAD_LETTER_KEYS = optionKeys<DeadLetterQuery>({ instanceId: true, limit: true });

/** Default of `waitForOrchestration`'s timeout. */
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

function invalid(message: string): DurableTaskError {
  return new DurableTaskError(ErrorCode.INVALID_ARGUMENT, message);
}


function checkDate(value: unknown, what: string): Date | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw invalid(`${what} must be a valid Date, got ${String(value)}.`);
  }
  return value;
}

function checkStatuses(value: unknown): readonly OrchestrationStatus[] | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Array.isArray(value)) throw invalid('dedupeStatuses must be an array of statuses.');
  for (const s of value) {
    if (!isOrchestrationStatus(s)) throw invalid(`'${String(s)}' is not an orchestration status.`);
  }
  return value;
}

/** A suspend or resume reason: text of at most the error-text limit (it is not stored aside). */
function shortReason(reason: unknown, call: string): string | undefined {
  const text = optionalString(reason, 'reason');
  if (text !== undefined && text.length > MAX_ERROR_MESSAGE_CHARS) {
    throw invalid(`The ${call} reason is longer than ${MAX_ERROR_MESSAGE_CHARS} characters ` +
      `(${text.length} given).`);
  }
  return text;
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${what} must be a string, got ${typeof value}.`);
  return value;
}

/** An execution id, when given, is a non-empty string (no backend has an empty one). */
function optionalExecutionId(value: unknown): string | undefined {
  const id = optionalString(value, 'executionId');
  if (id === '') throw invalid('executionId must not be empty.');
  return id;
}

/**
 * A method's options argument: absent is `{}`; null, a non-object or a name
 * not in `known` (a typo) is refused.
 */
/** An optional AbortSignal parameter: absent, or a real AbortSignal. */
function optionalSignal(value: unknown, method: string, name: string): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw invalid(`${method} parameter '${name}' must be an AbortSignal, ` +
    `got ${describeValue(value)}.`);
}

/**
 * Runs a backend call so that it fails only with DurableTaskError: anything
 * else a client implementation throws becomes BACKEND_ERROR, with the cause.
 */
async function backendCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isDurableTaskError(err)) throw err;
    throw new DurableTaskError(ErrorCode.BACKEND_ERROR,
      `${operation} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Starts, signals, inspects and cleans up orchestration instances through
 * the backend's `OrchestrationServiceClient` (contract.md §1.8). Every input
 * is validated first; errors carry a stable `code`.
 */
export class TaskHubClient {
  readonly #client: OrchestrationServiceClient;
  readonly #logger: Logger;

  /**
   * Checks every option at once: a bad value, or a name the client does not
   * know (a typo), throws INVALID_ARGUMENT naming it.
   */
  constructor(options: TaskHubClientOptions) {
    const o = hostOptions('TaskHubClient', options, CLIENT_KEYS);
    const c: OptionChecks = new OptionChecks('TaskHubClient');
    const client = o.client ?? c.object('backend', o.backend)?.client;
    if (!client) c.fail('backend', 'a backend (or give `client`)', o.backend);
    this.#client = c.methods('client', client, CLIENT_METHODS) as OrchestrationServiceClient;
    this.#logger = c.methods('logger', o.logger, ['child', 'debug', 'info', 'warn', 'error']) ??
      silentLogger();
  }

  /** The logger given at construction (for callers composing their own logs). */
  get logger(): Logger {
    return this.#logger;
  }

  /**
   * Creates an instance and enqueues its start. Returns the instance id (the
   * given one or 32 random hex digits) and the new execution id.
   */
  async createOrchestrationInstance(
    name: string,
    given?: CreateOrchestrationInstanceOptions,
  ): Promise<{ instanceId: string; executionId: string }> {
    const options = callOptions('createOrchestrationInstance', given, CREATE_KEYS);
    validateName(name, 'orchestration');
    const instanceId = options.instanceId === undefined
      ? newId32()
      : validateInstanceId(options.instanceId);
    const executionId = newId32();
    const version = validateVersion(options.version, 'orchestration');
    const tags = validateTags(options.tags, 'orchestration');
    const startAt = checkDate(options.startAt, 'startAt');
    const dedupeStatuses = checkStatuses(options.dedupeStatuses);
    const initial = options.initialEvent;
    if (typeof initial === 'object' && initial !== null) {
      checkKnownKeys('createOrchestrationInstance', initial, INITIAL_EVENT_KEYS, 'initialEvent');
    }
    if (initial !== undefined) validateName(initial?.name, 'initial event');
    const input = serializePayload(options.input, 'orchestration input');
    const eventData = initial === undefined
      ? undefined
      : serializePayload(initial.data, `data of event '${initial.name}'`);

    const start = newEvent({
      type: 'ExecutionStarted',
      orchestrationInstance: { instanceId, executionId },
      name, version, input, tags,
      scheduledStartTime: startAt?.toISOString(),
    });
    await backendCall('createOrchestrationInstance', () => this.#client.createOrchestration(
      taskMessage(start, { instanceId, executionId }), { dedupeStatuses: dedupeStatuses ?? null }));
    if (initial !== undefined) {
      const raised = newEvent({ type: 'EventRaised', name: initial.name, input: eventData });
      await backendCall('createOrchestrationInstance', () =>
        this.#client.sendOrchestrationMessage(taskMessage(raised, { instanceId })));
    }
    return { instanceId, executionId };
  }

  /** Raises an external event; `executionId` pins it to one execution. */
  async raiseEvent(instanceId: string, eventName: string, data?: unknown,
    given?: { executionId?: string }): Promise<void> {
    const options = callOptions('raiseEvent', given, EXECUTION_KEYS);
    validateInstanceId(instanceId);
    validateName(eventName, 'event');
    const executionId = optionalExecutionId(options.executionId);
    const input = serializePayload(data, `data of event '${eventName}'`);
    await backendCall('raiseEvent', () => this.#client.sendOrchestrationMessage(taskMessage(
      newEvent({ type: 'EventRaised', name: eventName, input }),
      executionId === undefined ? { instanceId } : { instanceId, executionId })));
  }

  /**
   * Waits until the instance (or the given execution) reaches a final
   * status; null when `timeoutMs` passed first.
   */
  async waitForOrchestration(
    instanceId: string,
    given?: WaitForOrchestrationOptions,
  ): Promise<OrchestrationState | null> {
    const options = callOptions('waitForOrchestration', given, WAIT_KEYS);
    validateInstanceId(instanceId);
    const timeoutMs = validateTimeoutMs(options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS,
      'wait timeout');
    const executionId = optionalExecutionId(options.executionId);
    const signal = optionalSignal(options.signal, 'waitForOrchestration', 'signal');
    return backendCall('waitForOrchestration', () => this.#client.waitForOrchestration(
      instanceId, {
        timeoutMs,
        ...(executionId !== undefined ? { executionId } : {}),
        ...(signal !== undefined ? { signal } : {}),
      }));
  }

  /** Terminates the current execution; the reason becomes its output (JSON text). */
  async terminate(instanceId: string, reason?: string,
    given?: { recursive?: boolean }): Promise<void> {
    const options = callOptions('terminate', given, RECURSIVE_KEYS);
    validateInstanceId(instanceId);
    const text = optionalString(reason, 'reason');
    const output = serializePayload(text ?? '', 'termination reason');
    await backendCall('terminate', () => this.#client.forceTerminateOrchestration(instanceId,
      output, { recursive: booleanOption('terminate', 'recursive', options.recursive) }));
  }

  async suspend(instanceId: string, reason?: string): Promise<void> {
    validateInstanceId(instanceId);
    const text = shortReason(reason, 'suspend');
    await backendCall('suspend', () => this.#client.sendOrchestrationMessage(taskMessage(
      newEvent({ type: 'ExecutionSuspended', reason: text }), { instanceId })));
  }

  async resume(instanceId: string, reason?: string): Promise<void> {
    validateInstanceId(instanceId);
    const text = shortReason(reason, 'resume');
    await backendCall('resume', () => this.#client.sendOrchestrationMessage(taskMessage(
      newEvent({ type: 'ExecutionResumed', reason: text }), { instanceId })));
  }

  /** The latest execution's state, or the given execution's; null when unknown. */
  async getOrchestrationState(instanceId: string,
    given?: { executionId?: string }): Promise<OrchestrationState | null> {
    const options = callOptions('getOrchestrationState', given, EXECUTION_KEYS);
    validateInstanceId(instanceId);
    const executionId = optionalExecutionId(options.executionId);
    if (executionId !== undefined) {
      return backendCall('getOrchestrationState', () =>
        this.#client.getOrchestrationStateOfExecution(instanceId, executionId));
    }
    const states = await backendCall('getOrchestrationState', () =>
      this.#client.getOrchestrationState(instanceId));
    return states[0] ?? null;
  }

  /** Every execution's state, latest first; empty for an unknown instance. */
  async getOrchestrationStates(instanceId: string): Promise<OrchestrationState[]> {
    validateInstanceId(instanceId);
    return backendCall('getOrchestrationStates', () =>
      this.#client.getOrchestrationState(instanceId, { allExecutions: true }));
  }

  /** History of one execution (the latest when absent). */
  async getOrchestrationHistory(instanceId: string, executionId?: string): Promise<HistoryEvent[]> {
    validateInstanceId(instanceId);
    const execution = optionalExecutionId(executionId);
    return backendCall('getOrchestrationHistory', () =>
      this.#client.getOrchestrationHistory(instanceId, execution));
  }

  /** Removes a finished instance; `NOT_COMPLETED` when it still runs. */
  async purgeInstance(instanceId: string,
    given?: { recursive?: boolean }): Promise<PurgeResult> {
    const options = callOptions('purgeInstance', given, RECURSIVE_KEYS);
    validateInstanceId(instanceId);
    return backendCall('purgeInstance', () =>
      this.#client.purgeInstanceState(instanceId,
        { recursive: booleanOption('purgeInstance', 'recursive', options.recursive) }));
  }

  async purgeInstances(filter: PurgeInstanceFilter): Promise<PurgeResult> {
    if (typeof filter !== 'object' || filter === null) {
      throw invalid('purgeInstances needs a filter.');
    }
    checkKnownKeys('purgeInstances filter', filter, PURGE_FILTER_KEYS);
    checkDate(filter.createdTimeFrom, 'createdTimeFrom');
    if (filter.createdTimeFrom === undefined) throw invalid('createdTimeFrom is required.');
    if (filter.createdTimeTo != null) checkDate(filter.createdTimeTo, 'createdTimeTo');
    if (filter.runtimeStatus != null) checkStatuses(filter.runtimeStatus);
    if (filter.timeoutMs != null) validateTimeoutMs(filter.timeoutMs, 'purge timeout');
    return backendCall('purgeInstances', () => this.#client.purgeInstances(filter));
  }

  async queryInstances(query: OrchestrationQuery = {},
    signal?: AbortSignal): Promise<OrchestrationQueryResult> {
    if (typeof query !== 'object' || query === null) {
      throw invalid('queryInstances needs a query object.');
    }
    checkKnownKeys('queryInstances query', query, QUERY_KEYS);
    const abort = optionalSignal(signal, 'queryInstances', 'signal');
    if (query.runtimeStatus !== undefined) checkStatuses(query.runtimeStatus);
    checkDate(query.createdTimeFrom, 'createdTimeFrom');
    checkDate(query.createdTimeTo, 'createdTimeTo');
    optionalString(query.instanceIdPrefix, 'instanceIdPrefix');
    optionalString(query.name, 'name');
    if (query.pageSize !== undefined && (!Number.isInteger(query.pageSize) || query.pageSize < 1)) {
      throw invalid(`pageSize must be a positive integer, got ${String(query.pageSize)}.`);
    }
    if (query.continuationToken != null && typeof query.continuationToken !== 'string') {
      throw invalid('continuationToken must be a string or null, got ' +
        `${describeValue(query.continuationToken)}.`);
    }
    return backendCall('queryInstances', () => this.#client.queryInstances(query, abort));
  }

  /**
   * Messages the backend gave up on (dead letters), oldest first; a backend
   * that keeps none answers INVALID_STATE.
   */
  async listDeadLetters(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    if (typeof query !== 'object' || query === null) {
      throw invalid('listDeadLetters needs a query object.');
    }
    checkKnownKeys('listDeadLetters query', query, DEAD_LETTER_KEYS);
    optionalString(query.instanceId, 'instanceId');
    const list = this.#client.listDeadLetters?.bind(this.#client);
    if (!list) {
      throw new DurableTaskError(ErrorCode.INVALID_STATE,
        'This backend keeps no dead letters (its client has no listDeadLetters).');
    }
    return backendCall('listDeadLetters', () => list(query));
  }
}
