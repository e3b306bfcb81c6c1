import { HubLifecycle } from '../../actors/task-hub-lifecycle.ts';
import type { Backend } from '../core/backend.ts';
import { validateHubName } from '../core/validation.ts';
import { ActivityRuntime } from './activity-runtime.ts';
import type { NatsFaultHooks } from './fault-hooks.ts';
import { guardErrors } from './error-guard.ts';
import { HubResources } from './hub-resources.ts';
import { NatsOrchestrationClient } from './nats-client.ts';
import { NatsOrchestrationService } from './nats-service.ts';
import { resolveNatsOptions, type NatsBackendOptions } from './options.ts';
import { OrchestrationEngine } from './orchestration-engine.ts';
import { deleteHub, ensureHub } from './provisioning.ts';

export type { NatsBackendOptions } from './options.ts';
export type { NatsFaultHooks, FaultAction, CommitFaultInfo } from './fault-hooks.ts';

/** The NATS backend with its internals reachable for tests and tools. */
export interface NatsBackend extends Backend {
  readonly kind: 'nats';
  /** The client, with the NATS backend's extras (`listDeadLetters`). */
  readonly client: NatsOrchestrationClient;
  /** The task hub's name. */
  readonly hub: string;
  /** Partitions this process owns right now. */
  ownedPartitions(): number[];
  /** The fault hooks in use; tests may change them while the backend runs. */
  readonly faults: NatsFaultHooks;
}

/**
 * Connects to NATS (or uses `connection`) and returns the JetStream backend of
 * task hub `hub`: the worker-side service and the client. Nothing is created
 * on the server until `service.create()` or `createIfNotExists()`.
 *
 * @example
 * const backend = await createNatsBackend({ servers: 'nats://127.0.0.1:4222', hub: 'orders' });
 * await backend.service.createIfNotExists();
 * await backend.service.start();
 */
export async function createNatsBackend(options: NatsBackendOptions): Promise<NatsBackend> {
  validateHubName(options.hub);
  const resolved = resolveNatsOptions(options);
  const res = await HubResources.open(resolved);
  const log = resolved.logger.child({ hub: resolved.hub, backend: 'nats' });
  const engine = new OrchestrationEngine(res, log);
  const activities = new ActivityRuntime(res, log);
  const lifecycle = new HubLifecycle({
    hub: resolved.hub,
    steps: {
      provision: async (input) => {
        if (input.mode === 'create') await deleteHub(res, input.recreateInstanceStore);
        await ensureHub(res);
      },
      startWork: async () => {
        await activities.start();
        await engine.start();
      },
      stopWork: async (input) => {
        await Promise.all([engine.stop(input.forced), activities.stop(input.forced)]);
      },
      deprovision: async (input) => {
        await deleteHub(res, input.deleteInstanceStore);
      },
    },
    onStateChange: (state, previous) =>
      log.debug({ event: 'nats.hub.state', state, previous }, 'task hub state changed'),
  });
  const service = new NatsOrchestrationService(lifecycle, engine, activities, resolved,
    res.faults);
  const client = new NatsOrchestrationClient(res, engine.store, engine.commitLog, log,
    (token) => engine.forget(token));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= (async () => {
    if (lifecycle.state === 'running' || lifecycle.state === 'starting') {
      await lifecycle.stop({ forced: true }).catch(() => undefined);
    }
    client.close();
    lifecycle.close();
    await res.close();
  })());
  // Outages are waited out; a connection that closes for good (a given connection its owner
  // closed, or one the server refused) closes the backend: calls fail with INVALID_STATE.
  res.connection.onLost(() => void close());
  // Public methods throw only DurableTaskError: transport failures are BACKEND_ERROR, calls on a
  // closed backend INVALID_STATE.
  const guarded = {
    hub: resolved.hub,
    isClosed: () => closing !== undefined || res.connection.state === 'closed',
    isReconnecting: () => res.connection.state === 'reconnecting',
  };
  return {
    kind: 'nats',
    hub: resolved.hub,
    service: guardErrors(service, guarded),
    client: guardErrors(client, guarded),
    ownedPartitions: () => engine.ownedPartitions(),
    faults: resolved.faults,
    close,
  };
}
