import type { OrchestrationService } from './orchestration-service.ts';
import type { OrchestrationServiceClient } from './orchestration-service-client.ts';

/** What `createMemoryBackend` and `createNatsBackend` return. */
export interface Backend {
  readonly service: OrchestrationService;
  readonly client: OrchestrationServiceClient;
  /** Human-readable backend name, for logs and test titles. */
  readonly kind: 'memory' | 'nats';
  /** Releases connections and timers. Idempotent. */
  close(): Promise<void>;
}
