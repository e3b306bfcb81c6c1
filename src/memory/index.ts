// The in-memory backend: the reference model of the orchestration service contract.
//
// Rules it keeps (beyond the contract text), so other backends and tests can rely on them:
// - Locks: one per instance, fenced by a per-lock token carrying the work-item machine;
//   a lock lapses at lockedUntil on the injected clock and its batch (a prefix of the
//   instance's queue) is deliverable again, in order, with later arrivals behind it.
// - A work item holds every deliverable message of its instance (up to maxBatchMessages);
//   its runtime state is the stored history of the current execution, empty when Pending.
// - Discarded (and logged) at send or lock time: messages to unknown or finished
//   instances, duplicate starts, messages naming another execution, and whatever was
//   queued before the start of a Pending (new or re-created) execution.
// - Abandon: no delay the first time, then abandonBackoffMs doubling up to
//   maxAbandonBackoffMs, per batch (per activity for activities); release of an untouched
//   batch returns it without delay.
// - Status records: createdTime is the backend clock when the execution's record is first
//   written; every write stamps lastUpdatedTime. Old executions stay queryable.
// - Client calls need a provisioned hub (INVALID_HUB_STATE when absent); locks need a
//   running one (HUB_NOT_RUNNING). Stopping ends pending lock calls and client waits.
export {
  createMemoryBackend,
  type MemoryBackend,
  type MemoryBackendStats,
} from './memory-backend.ts';
export type { MemoryBackendOptions, MemoryFaults } from './memory-options.ts';
export { MemoryOrchestrationService } from './memory-service.ts';
export { MemoryOrchestrationClient } from './memory-client.ts';
