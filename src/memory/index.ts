// The in-memory backend: the reference model of the orchestration service contract.
export {
  createMemoryBackend,
  type MemoryBackend,
  type MemoryBackendStats,
} from './memory-backend.ts';
export type { MemoryBackendOptions, MemoryFaults } from './memory-options.ts';
export { MemoryOrchestrationService } from './memory-service.ts';
export { MemoryOrchestrationClient } from './memory-client.ts';
