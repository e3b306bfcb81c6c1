import { backendClosedError, publicError } from './nats-errors.ts';

/** What the guard needs to know about the backend it fronts. */
export interface GuardedBackend {
  readonly hub: string;
  /** True once `close()` began or the connection closed for good. */
  isClosed(): boolean;
  /** True while the connection is lost and being re-established. */
  isReconnecting(): boolean;
}

/**
 * Methods that talk to the server: on a closed backend they fail at once
 * with INVALID_STATE. (Every method's errors are mapped, these or not.)
 */
const CALLS = new Set([
  // OrchestrationService
  'create', 'createIfNotExists', 'delete', 'start', 'stop',
  'lockNextOrchestrationWorkItem', 'renewOrchestrationWorkItemLock',
  'completeOrchestrationWorkItem', 'abandonOrchestrationWorkItem',
  'releaseOrchestrationWorkItem', 'lockNextActivityWorkItem', 'renewActivityWorkItemLock',
  'completeActivityWorkItem', 'abandonActivityWorkItem',
  // OrchestrationServiceClient
  'createOrchestration', 'sendOrchestrationMessage', 'sendOrchestrationMessageBatch',
  'waitForOrchestration', 'forceTerminateOrchestration', 'getOrchestrationState',
  'getOrchestrationStateOfExecution', 'getOrchestrationHistory', 'purgeInstanceState',
  'purgeInstances', 'queryInstances', 'listDeadLetters',
]);

type AnyMethod = (...args: unknown[]) => unknown;

/**
 * Fronts the service or the client of a NATS backend so that its public
 * methods throw only DurableTaskError: transport failures (timeouts,
 * request errors) become BACKEND_ERROR with the cause, a closed connection
 * or backend INVALID_STATE. Properties pass through; methods run on the
 * target itself, so `instanceof` and internal state are unchanged.
 */
export function guardErrors<T extends object>(target: T, backend: GuardedBackend): T {
  const methods = new Map<PropertyKey, AnyMethod>();
  return new Proxy(target, {
    get(t, key) {
      const value: unknown = Reflect.get(t, key, t);
      if (typeof value !== 'function' || typeof key !== 'string' || key === 'constructor') {
        return value;
      }
      let method = methods.get(key);
      if (!method) {
        method = guardMethod(t, key, value as AnyMethod, backend);
        methods.set(key, method);
      }
      return method;
    },
  });
}

function guardMethod(target: object, name: string, method: AnyMethod,
  backend: GuardedBackend): AnyMethod {
  const checksClosed = CALLS.has(name);
  return (...args: unknown[]): unknown => {
    const map = (err: unknown): Error => publicError(describeCall(name, args), backend.hub, err,
      { closed: backend.isClosed(), reconnecting: backend.isReconnecting() });
    if (checksClosed && backend.isClosed()) {
      return Promise.reject(backendClosedError(name, backend.hub));
    }
    let result: unknown;
    try {
      result = method.apply(target, args);
    } catch (err) {
      throw map(err);
    }
    if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
      return (result as Promise<unknown>).then(undefined, (err: unknown) => {
        throw map(err);
      });
    }
    return result;
  };
}

/** Methods whose first argument is an instance id. */
const BY_INSTANCE_ID = new Set([
  'waitForOrchestration', 'forceTerminateOrchestration', 'getOrchestrationState',
  'getOrchestrationStateOfExecution', 'getOrchestrationHistory', 'purgeInstanceState',
]);

/** The call as an error names it: the method, and the instance it was about when known. */
function describeCall(name: string, args: readonly unknown[]): string {
  let id: unknown;
  try {
    const first = args[0] as { instanceId?: unknown;
      orchestrationInstance?: { instanceId?: unknown } } | undefined;
    if (BY_INSTANCE_ID.has(name)) id = first;
    else if (typeof first?.instanceId === 'string') id = first.instanceId;
    else id = first?.orchestrationInstance?.instanceId;
  } catch {
    id = undefined;
  }
  if (typeof id !== 'string') return name;
  const shown = id.length > 80 ? `${JSON.stringify(id.slice(0, 80))}…` : JSON.stringify(id);
  return `${name} for instance ${shown}`;
}
