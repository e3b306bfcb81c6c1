import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { Backend } from '../../src/core/backend.ts';
import { newEvent, type HistoryEvent, type NewEvent } from '../../src/core/history-event.ts';
import { buildOrchestrationState } from '../../src/core/runtime-state.ts';
import { taskMessage, type TaskMessage } from '../../src/core/task-message.ts';
import type { OrchestrationWorkItem, ActivityWorkItem } from '../../src/core/work-item.ts';
import type { Tags } from '../../src/core/history-event.ts';
import type { BackendFixture, FixtureOptions } from './backends.ts';

/** Receive timeout for a lock that is expected to find nothing (NATS needs at least 1 s). */
export const EMPTY_RECEIVE_MS = 1_500;
/** Receive timeout for a lock that is expected to find something: a safety net. */
export const RECEIVE_MS = 20_000;

export function newExecutionId(): string {
  return randomUUID().replaceAll('-', '');
}

/**
 * Provisions and starts a backend for a service-level test; stops and closes
 * it when the test ends. Null after `t.skip()` when the backend is not built.
 */
export async function startService(
  t: TestContext,
  fixture: BackendFixture,
  opts: FixtureOptions = {},
): Promise<Backend | null> {
  const missing = await fixture.unavailable();
  if (missing !== undefined) {
    t.skip(missing);
    return null;
  }
  const backend = await fixture.create(opts);
  t.after(async () => {
    await backend.service.stop({ forced: true }).catch(() => undefined);
    await backend.close();
  });
  await backend.service.createIfNotExists();
  await backend.service.start();
  return backend;
}

/** The creation message of a new instance, as TaskHubClient builds it. */
export function startMessage(
  instanceId: string,
  name: string,
  input?: string,
  extra: { executionId?: string; tags?: Tags; scheduledStartTime?: string } = {},
): TaskMessage {
  const executionId = extra.executionId ?? newExecutionId();
  const event = newEvent({
    type: 'ExecutionStarted',
    orchestrationInstance: { instanceId, executionId },
    name,
    version: '',
    ...(input !== undefined ? { input } : {}),
    ...(extra.tags ? { tags: extra.tags } : {}),
    ...(extra.scheduledStartTime ? { scheduledStartTime: extra.scheduledStartTime } : {}),
  });
  return taskMessage(event, { instanceId, executionId });
}

export async function createInstance(
  backend: Backend,
  instanceId: string,
  name = 'Test',
  input?: string,
): Promise<{ instanceId: string; executionId: string }> {
  const msg = startMessage(instanceId, name, input);
  await backend.client.createOrchestration(msg);
  return { instanceId, executionId: msg.orchestrationInstance.executionId as string };
}

export async function lockOrchestration(
  backend: Backend,
  timeoutMs = RECEIVE_MS,
): Promise<OrchestrationWorkItem | null> {
  return backend.service.lockNextOrchestrationWorkItem(timeoutMs);
}

export async function lockActivity(
  backend: Backend,
  timeoutMs = RECEIVE_MS,
): Promise<ActivityWorkItem | null> {
  return backend.service.lockNextActivityWorkItem(timeoutMs);
}

export interface EpisodeDecisions {
  /** Decision events (TaskScheduled, TimerCreated, ExecutionCompleted, ...). */
  readonly events?: readonly NewEvent[];
  readonly activityMessages?: readonly TaskMessage[];
  readonly orchestratorMessages?: readonly TaskMessage[];
  readonly timerMessages?: readonly TaskMessage[];
  readonly customStatus?: string | null;
}

/**
 * Plays the dispatcher's part of one episode by hand: OrchestratorStarted,
 * the batch's events, the given decisions, OrchestratorCompleted; then the
 * checkpoint with the status record built from that state.
 */
export async function checkpoint(
  backend: Backend,
  wi: OrchestrationWorkItem,
  decisions: EpisodeDecisions = {},
): Promise<void> {
  const state = wi.orchestrationRuntimeState;
  state.addEvent(newEvent({ type: 'OrchestratorStarted' }));
  for (const m of wi.newMessages) {
    if (m.event.type === 'ExecutionStarted' && state.executionStartedEvent) continue;
    state.addEvent(m.event);
  }
  for (const e of decisions.events ?? []) state.addEvent(newEvent(e) as HistoryEvent);
  state.addEvent(newEvent({ type: 'OrchestratorCompleted' }));
  if (decisions.customStatus !== undefined) state.customStatus = decisions.customStatus;
  await backend.service.completeOrchestrationWorkItem(wi, {
    newRuntimeState: state,
    activityMessages: decisions.activityMessages ?? [],
    orchestratorMessages: decisions.orchestratorMessages ?? [],
    timerMessages: decisions.timerMessages ?? [],
    continuedAsNewMessage: null,
    orchestrationState: buildOrchestrationState(state),
  });
}

/** The locked work item's (instance, execution), asserting it has a start. */
export function executionOf(wi: OrchestrationWorkItem): {
  instanceId: string;
  executionId: string;
} {
  const started =
    wi.orchestrationRuntimeState.executionStartedEvent ??
    wi.newMessages.map((m) => m.event).find((e) => e.type === 'ExecutionStarted');
  assert.ok(started && started.type === 'ExecutionStarted', 'work item has no ExecutionStarted');
  return started.orchestrationInstance;
}

/**
 * Creates an instance whose first episode schedules activity `name` as task 0
 * and releases it; returns the owner (instance and execution).
 */
export async function scheduleActivity(
  backend: Backend,
  instanceId: string,
  name: string,
): Promise<{ instanceId: string; executionId: string }> {
  await createInstance(backend, instanceId, 'Greet');
  const wi = await lockOrchestration(backend);
  assert.ok(wi, `no work item for '${instanceId}'`);
  const owner = executionOf(wi);
  const scheduled = newEvent({ type: 'TaskScheduled', eventId: 0, name, version: '' });
  await checkpoint(backend, wi, {
    events: [{ type: 'TaskScheduled', eventId: 0, name, version: '' }],
    activityMessages: [taskMessage(scheduled, owner)],
  });
  await backend.service.releaseOrchestrationWorkItem(wi);
  return owner;
}
