import type { Logger } from 'pino';

// Log events of the in-memory backend: one function per event, each with a
// stable `event` field.

export type DiscardReason =
  | 'unknown-instance'
  | 'instance-finished'
  | 'stale-execution'
  | 'superseded-by-new-execution'
  | 'duplicate-start'
  | 'duplicate-result'
  | 'child-exists';

export function messageDiscarded(
  log: Logger,
  f: { instanceId: string; executionId?: string | undefined; eventType: string;
    reason: DiscardReason },
): void {
  // A dropped child start leaves its parent waiting: worth a warning too.
  const level = f.reason === 'unknown-instance' || f.reason === 'child-exists' ? 'warn' : 'debug';
  log[level]({ event: 'memory.message.discarded', ...f },
    `discarded a ${f.eventType} message for instance '${f.instanceId}' (${f.reason})`);
}

export function hubStateChanged(log: Logger, f: { state: string; previous: string }): void {
  log.debug({ event: 'memory.hub.state', ...f }, `task hub ${f.previous} -> ${f.state}`);
}

export function hubStopTimedOut(
  log: Logger,
  f: { heldLocks: number; drainTimeoutMs: number },
): void {
  log.warn({ event: 'memory.hub.drainTimedOut', ...f },
    `graceful stop gave up after ${f.drainTimeoutMs} ms with ${f.heldLocks} locks held`);
}

export function orchestrationLocked(
  log: Logger,
  f: { instanceId: string; executionId: string; messages: number; lockedUntil: string },
): void {
  log.debug({ event: 'memory.orchestration.locked', ...f }, 'locked an orchestration work item');
}

export function orchestrationLockLapsed(
  log: Logger,
  f: { instanceId: string; messages: number },
): void {
  log.warn({ event: 'memory.orchestration.lockLapsed', ...f },
    `the lock of instance '${f.instanceId}' lapsed; its batch is deliverable again`);
}

export function orchestrationAbandoned(
  log: Logger,
  f: { instanceId: string; abandons: number; delayMs: number },
): void {
  log.debug({ event: 'memory.orchestration.abandoned', ...f }, 'abandoned an orchestration batch');
}

export function checkpointCommitted(
  log: Logger,
  f: { instanceId: string; executionId: string; status: string; consumed: number;
    newEvents: number; activities: number; messages: number; timers: number },
): void {
  log.debug({ event: 'memory.orchestration.checkpoint', ...f }, 'committed a checkpoint');
}

export function checkpointDiscarded(
  log: Logger,
  f: { instanceId: string; consumed: number },
): void {
  log.debug({ event: 'memory.orchestration.discarded', ...f },
    'consumed a batch the dispatcher discarded');
}

export function faultInjected(log: Logger, f: { fault: string; instanceId?: string }): void {
  log.info({ event: 'memory.fault.injected', ...f }, `injected fault ${f.fault}`);
}

export function activityLockLapsed(
  log: Logger,
  f: { id: string; instanceId: string; deliveryCount: number },
): void {
  log.warn({ event: 'memory.activity.lockLapsed', ...f },
    `the lock of activity ${f.id} lapsed; it is deliverable again`);
}

export function activityCompletionIgnored(
  log: Logger,
  f: { id: string; instanceId: string; reason: string },
): void {
  log.info({ event: 'memory.activity.completionIgnored', ...f },
    `ignored a completion of activity ${f.id}: ${f.reason}`);
}

export function instanceCreated(
  log: Logger,
  f: { instanceId: string; executionId: string; replaced?: string | undefined;
    scheduledStartTime?: string | undefined },
): void {
  log.debug({ event: 'memory.instance.created', ...f }, `created instance '${f.instanceId}'`);
}

export function instanceTerminatedPending(
  log: Logger,
  f: { instanceId: string; executionId: string },
): void {
  log.info({ event: 'memory.instance.terminatedPending', ...f },
    `terminated pending instance '${f.instanceId}' before it ran`);
}

export function instancePurged(log: Logger, f: { instanceId: string; executions: number }): void {
  log.debug({ event: 'memory.instance.purged', ...f }, `purged instance '${f.instanceId}'`);
}

export function deadLettered(
  log: Logger,
  f: { kind: string; instanceId: string; eventType: string; deliveries: number; reason: string },
): void {
  log.warn({ event: 'memory.message.deadLettered', ...f },
    `moved a ${f.eventType} message for instance '${f.instanceId}' to the dead letters`);
}
