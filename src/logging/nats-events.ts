import type { Logger } from './logger.ts';

// Log events of the NATS backend: one function per event, with a stable `event` name.

export function partitionAcquired(log: Logger, partition: number, waitedMs: number): void {
  log.info({ event: 'nats.partition.acquired', partition, waitedMs }, 'partition acquired');
}

export function partitionReleased(log: Logger, partition: number): void {
  log.info({ event: 'nats.partition.released', partition }, 'partition handed back');
}

export function partitionLost(log: Logger, partition: number, reason: string): void {
  log.warn({ event: 'nats.partition.lost', partition, reason }, 'partition lease lost');
}

export function leaseRenewFailed(log: Logger, partition: number, err: unknown): void {
  log.warn({ event: 'nats.lease.renewFailed', partition, err }, 'lease renewal failed');
}

export function messageDiscarded(
  log: Logger,
  fields: { instanceId: string; partition: number; seq: number; eventType: string;
    executionId?: string | undefined; reason: string },
): void {
  // A dropped start (a child id that is live) leaves its parent waiting: a warning.
  const level = fields.eventType === 'ExecutionStarted' ? 'warn' : 'info';
  log[level]({ event: 'nats.message.discarded', ...fields }, 'message discarded');
}

export function startResent(log: Logger, instanceId: string, executionId: string): void {
  log.info({ event: 'nats.start.resent', instanceId, executionId },
    'start message re-sent for a pending instance');
}

export function commitConflict(log: Logger, instanceId: string, revision: number): void {
  log.info({ event: 'nats.commit.conflict', instanceId, revision },
    'commit lost the revision check (another holder committed first)');
}

export function postCommitFailed(log: Logger, instanceId: string, step: string, err: unknown):
  void {
  log.warn({ event: 'nats.commit.postStepFailed', instanceId, step, err },
    'a step after the commit failed; the relay or a redelivery completes it');
}

export function relayResent(log: Logger, partition: number, instanceId: string, seq: number,
  messages: number): void {
  log.info({ event: 'nats.relay.resent', partition, instanceId, seq, messages },
    'relay sent the outbox of a commit whose sender did not');
}

export function relayFailed(log: Logger, partition: number, seq: number, err: unknown): void {
  log.warn({ event: 'nats.relay.failed', partition, seq, err }, 'relay could not handle a commit');
}

export function timerFired(log: Logger, partition: number, key: string, lateMs: number): void {
  log.debug({ event: 'nats.timer.fired', partition, key, lateMs }, 'timer fired');
}

export function timerFailed(log: Logger, partition: number, key: string, err: unknown): void {
  log.warn({ event: 'nats.timer.failed', partition, key, err }, 'timer could not be fired');
}

export function deadLettered(
  log: Logger,
  fields: { stream: string; seq: number; instanceId: string; deliveries: number; reason: string },
): void {
  log.warn({ event: 'nats.message.deadLettered', ...fields }, 'message moved to the dead letters');
}

export function activityResultIgnored(log: Logger, instanceId: string, reason: string): void {
  log.info({ event: 'nats.activity.resultIgnored', instanceId, reason },
    'activity result not sent');
}

export function backgroundError(log: Logger, task: string, err: unknown): void {
  log.warn({ event: 'nats.background.error', task, err }, 'background task failed; retrying');
}

export function recordWriteSkipped(log: Logger, instanceId: string, reason: string): void {
  log.debug({ event: 'nats.record.skipped', instanceId, reason }, 'instance record not replaced');
}

export function faultInjected(log: Logger, fault: string, instanceId: string | undefined): void {
  log.info({ event: 'nats.fault.injected', fault, ...(instanceId ? { instanceId } : {}) },
    `injected fault ${fault}`);
}

export function partitionHandedOff(log: Logger, partition: number, to: string,
  orchestrations: readonly string[]): void {
  log.info({ event: 'nats.partition.handedOff', partition, to, orchestrations },
    'partition handed to a worker that runs its orchestrations');
}
