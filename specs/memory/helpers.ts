import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { isDurableTaskError } from '../../src/core/errors.ts';
import {
  newEvent,
  type HistoryEvent,
  type NewEvent,
  type Tags,
} from '../../src/core/history-event.ts';
import { buildOrchestrationState } from '../../src/core/runtime-state.ts';
import { taskMessage, type TaskMessage } from '../../src/core/task-message.ts';
import type { OrchestrationWorkItem } from '../../src/core/work-item.ts';
import { createMemoryBackend, type MemoryBackend } from '../../src/memory/index.ts';
import type { MemoryBackendOptions } from '../../src/memory/memory-options.ts';
import { SimClock } from '../support/sim-clock.ts';

export const SECOND = 1_000;

export interface Fixture {
  readonly b: MemoryBackend;
  readonly clock: SimClock;
}

let executionCounter = 0;

export function newExecutionId(): string {
  executionCounter++;
  return `e${executionCounter.toString(16).padStart(8, '0')}`;
}

/** A provisioned, started memory backend on a simulated clock, closed when the test ends. */
export async function started(
  t: TestContext,
  options: MemoryBackendOptions = {},
): Promise<Fixture> {
  const clock = new SimClock();
  const b = createMemoryBackend({ clock, hub: 'spec', ...options });
  t.after(() => b.close());
  await b.service.createIfNotExists();
  await b.service.start();
  return { b, clock };
}

export function startMessage(
  instanceId: string,
  name = 'Test',
  extra: { executionId?: string; input?: string; tags?: Tags; scheduledStartTime?: string;
    parent?: { instanceId: string; executionId: string; taskScheduleId: number } } = {},
): TaskMessage {
  const executionId = extra.executionId ?? newExecutionId();
  const event = newEvent({
    type: 'ExecutionStarted',
    orchestrationInstance: { instanceId, executionId },
    name,
    version: '',
    ...(extra.input !== undefined ? { input: extra.input } : {}),
    ...(extra.tags ? { tags: extra.tags } : {}),
    ...(extra.scheduledStartTime ? { scheduledStartTime: extra.scheduledStartTime } : {}),
    ...(extra.parent ? {
      parentInstance: {
        name: 'Parent', version: '',
        orchestrationInstance: {
          instanceId: extra.parent.instanceId, executionId: extra.parent.executionId,
        },
        taskScheduleId: extra.parent.taskScheduleId,
      },
    } : {}),
  });
  return taskMessage(event, { instanceId, executionId });
}

export async function create(
  b: MemoryBackend,
  instanceId: string,
  extra: Parameters<typeof startMessage>[2] = {},
): Promise<string> {
  const msg = startMessage(instanceId, 'Test', extra);
  await b.client.createOrchestration(msg);
  return msg.orchestrationInstance.executionId!;
}

export function raise(instanceId: string, name: string, input?: string,
  executionId?: string): TaskMessage {
  return taskMessage(newEvent({ type: 'EventRaised', name, ...(input ? { input } : {}) }),
    { instanceId, ...(executionId ? { executionId } : {}) });
}

/** Locks without waiting; asserts something was there. */
export async function lockNow(b: MemoryBackend): Promise<OrchestrationWorkItem> {
  const wi = await b.service.lockNextOrchestrationWorkItem(0);
  assert.ok(wi, 'expected a deliverable orchestration work item');
  return wi;
}

export async function nothingToLock(b: MemoryBackend): Promise<void> {
  const wi = await b.service.lockNextOrchestrationWorkItem(0);
  assert.equal(wi, null, `unexpected work item for '${wi?.instanceId}'`);
}

export function eventTypes(wi: OrchestrationWorkItem): string[] {
  return wi.newMessages.map((m) => m.event.type);
}

export interface Decisions {
  readonly events?: readonly NewEvent[];
  readonly activityMessages?: readonly TaskMessage[];
  readonly orchestratorMessages?: readonly TaskMessage[];
  readonly timerMessages?: readonly TaskMessage[];
  readonly customStatus?: string | null;
}

/** Plays one episode by hand (as the dispatcher would) and checkpoints it. */
export async function checkpoint(
  b: MemoryBackend,
  wi: OrchestrationWorkItem,
  d: Decisions = {},
): Promise<void> {
  const state = wi.orchestrationRuntimeState;
  state.addEvent(newEvent({ type: 'OrchestratorStarted' }));
  for (const m of wi.newMessages) {
    if (m.event.type === 'ExecutionStarted' && state.executionStartedEvent) continue;
    state.addEvent(m.event);
  }
  for (const e of d.events ?? []) state.addEvent(newEvent(e) as HistoryEvent);
  state.addEvent(newEvent({ type: 'OrchestratorCompleted' }));
  if (d.customStatus !== undefined) state.customStatus = d.customStatus;
  await b.service.completeOrchestrationWorkItem(wi, {
    newRuntimeState: state,
    activityMessages: d.activityMessages ?? [],
    orchestratorMessages: d.orchestratorMessages ?? [],
    timerMessages: d.timerMessages ?? [],
    continuedAsNewMessage: null,
    orchestrationState: buildOrchestrationState(state),
  });
}

/** Lock, checkpoint and release the next work item in one go. */
export async function episode(b: MemoryBackend, d: Decisions = {}): Promise<OrchestrationWorkItem> {
  const wi = await lockNow(b);
  await checkpoint(b, wi, d);
  await b.service.releaseOrchestrationWorkItem(wi);
  return wi;
}

export function completed(result = '"done"'): Decisions {
  return { events: [{ type: 'ExecutionCompleted', eventId: 0, orchestrationStatus: 'Completed',
    result }] };
}

export function owner(wi: OrchestrationWorkItem): { instanceId: string; executionId: string } {
  const started = wi.orchestrationRuntimeState.executionStartedEvent ??
    wi.newMessages.map((m) => m.event).find((e) => e.type === 'ExecutionStarted');
  assert.ok(started?.type === 'ExecutionStarted');
  return started.orchestrationInstance;
}

export async function rejectsCode(p: Promise<unknown>, code: string, text?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isDurableTaskError(err), `expected a DurableTaskError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (text) assert.match(err.message, text);
    return true;
  });
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
