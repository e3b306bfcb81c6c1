/**
 * Listeners on the status records of instances. `notify` runs the listeners
 * of one instance synchronously; a listener must not change the store.
 */
export class StatusWatch {
  private readonly listeners = new Map<string, Set<() => void>>();

  /** Adds a listener; returns the function that removes it. */
  on(instanceId: string, fn: () => void): () => void {
    let set = this.listeners.get(instanceId);
    if (!set) {
      set = new Set();
      this.listeners.set(instanceId, set);
    }
    set.add(fn);
    return () => {
      const s = this.listeners.get(instanceId);
      if (!s) return;
      s.delete(fn);
      if (s.size === 0) this.listeners.delete(instanceId);
    };
  }

  notify(instanceId: string): void {
    const set = this.listeners.get(instanceId);
    if (!set) return;
    for (const fn of [...set]) fn();
  }

  /** Number of instances with listeners (for leak checks in tests). */
  get watchedInstances(): number {
    return this.listeners.size;
  }
}
