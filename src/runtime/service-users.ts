import type { OrchestrationService, WorkerCapabilities } from '../core/orchestration-service.ts';

/** What a worker tells the others that share its backend. */
export interface ServiceUser {
  capabilities(): WorkerCapabilities;
}

// Workers that run on one backend's service at the same time. The service is
// started by the first and stopped by the last; its capabilities are the union of
// theirs. Keyed weakly: a dropped service takes its entry with it.
const users = new WeakMap<OrchestrationService, Set<ServiceUser>>();

/** Adds `user` to the service's workers; true when it is the only one. */
export function joinService(service: OrchestrationService, user: ServiceUser): boolean {
  let set = users.get(service);
  if (!set) users.set(service, (set = new Set()));
  set.add(user);
  announce(service, set);
  return set.size === 1;
}

/** Removes `user`; true when no other worker uses the service (it may be stopped). */
export function leaveService(service: OrchestrationService, user: ServiceUser): boolean {
  const set = users.get(service);
  if (!set?.delete(user)) return true;
  if (set.size === 0) {
    users.delete(service);
    return true;
  }
  announce(service, set);
  return false;
}

function announce(service: OrchestrationService, set: ReadonlySet<ServiceUser>): void {
  if (!service.setCapabilities) return;
  const orchestrations = new Set<string>();
  const activities = new Set<string>();
  for (const u of set) {
    const c = u.capabilities();
    for (const n of c.orchestrations) orchestrations.add(n);
    for (const n of c.activities) activities.add(n);
  }
  service.setCapabilities({ orchestrations: [...orchestrations], activities: [...activities] });
}
