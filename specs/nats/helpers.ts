import { randomUUID } from 'node:crypto';
import { newEvent, type HistoryEvent, type NewEvent } from '../../src/core/history-event.ts';
import { buildOrchestrationState } from '../../src/core/runtime-state.ts';
import { taskMessage, type TaskMessage } from '../../src/core/task-message.ts';
import type { OrchestrationWorkItem } from '../../src/core/work-item.ts';
import {
  createNatsBackend, type NatsBackend, type NatsBackendOptions,
} from '../../src/nats/index.ts';
import { uniqueHubName } from '../support/nats-server.ts';

/** Lease of test hubs: short, so takeovers happen within a few seconds. */
export const TEST_LEASE_MS = 1_500;
/** Receive timeout for a lock expected to find something (a safety net). */
export const RECEIVE_MS = 20_000;
/** Receive timeout for a lock expected to find nothing (the client needs at least 1 s). */
export const EMPTY_MS = 1_200;

/** Creates a backend on a fresh hub (or the given one); closes it when `track` says so. */
export async function openBackend(
  url: string,
  track: NatsBackend[],
  options: Partial<NatsBackendOptions> = {},
): Promise<NatsBackend> {
  const backend = await createNatsBackend({
    servers: url, hub: options.hub ?? uniqueHubName('nb'), partitions: 2,
    leaseMs: TEST_LEASE_MS, ...options,
  });
  track.push(backend);
  return backend;
}

export async function closeAll(track: NatsBackend[]): Promise<void> {
  for (const b of track.splice(0).reverse()) {
    await b.service.stop({ forced: true }).catch(() => undefined);
    await b.close().catch(() => undefined);
  }
}

export async function startedBackend(url: string, track: NatsBackend[],
  options: Partial<NatsBackendOptions> = {}): Promise<NatsBackend> {
  const b = await openBackend(url, track, options);
  await b.service.createIfNotExists();
  await b.service.start();
  return b;
}

export function newExecutionId(): string {
  return randomUUID().replaceAll('-', '');
}

export function startMessage(instanceId: string, name = 'Test', input?: string,
  extra: { executionId?: string; scheduledStartTime?: string } = {}): TaskMessage {
  const executionId = extra.executionId ?? newExecutionId();
  return taskMessage(newEvent({
    type: 'ExecutionStarted', orchestrationInstance: { instanceId, executionId }, name,
    version: '', ...(input !== undefined ? { input } : {}),
    ...(extra.scheduledStartTime ? { scheduledStartTime: extra.scheduledStartTime } : {}),
  }), { instanceId, executionId });
}

export async function create(b: NatsBackend, instanceId: string, input?: string):
  Promise<{ instanceId: string; executionId: string }> {
  const msg = startMessage(instanceId, 'Test', input);
  await b.client.createOrchestration(msg);
  return { instanceId, executionId: msg.orchestrationInstance.executionId as string };
}

export interface Decisions {
  readonly events?: readonly NewEvent[];
  readonly activityMessages?: readonly TaskMessage[];
  readonly orchestratorMessages?: readonly TaskMessage[];
  readonly timerMessages?: readonly TaskMessage[];
}

/** Plays one episode by hand and checkpoints it. */
export async function checkpoint(b: NatsBackend, wi: OrchestrationWorkItem, d: Decisions = {}):
  Promise<void> {
  const state = wi.orchestrationRuntimeState;
  state.addEvent(newEvent({ type: 'OrchestratorStarted' }));
  for (const m of wi.newMessages) {
    if (m.event.type === 'ExecutionStarted' && state.executionStartedEvent) continue;
    state.addEvent(m.event);
  }
  for (const e of d.events ?? []) state.addEvent(newEvent(e) as HistoryEvent);
  state.addEvent(newEvent({ type: 'OrchestratorCompleted' }));
  await b.service.completeOrchestrationWorkItem(wi, {
    newRuntimeState: state,
    activityMessages: d.activityMessages ?? [],
    orchestratorMessages: d.orchestratorMessages ?? [],
    timerMessages: d.timerMessages ?? [],
    continuedAsNewMessage: null,
    orchestrationState: buildOrchestrationState(state),
  });
}

export function completed(result: string): NewEvent {
  return { type: 'ExecutionCompleted', eventId: 0, orchestrationStatus: 'Completed', result };
}

/** Polls `check` until it returns a value (bounded by `timeoutMs`). */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | null> | T |
  undefined | null, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline; i++) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v;
    await new Promise((r) => setTimeout(r, Math.min(50 * (i + 1), 250)));
  }
  throw new Error(`timed out waiting for ${what}`);
}
