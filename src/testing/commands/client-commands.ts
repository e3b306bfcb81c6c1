import { newEvent } from '../../core/history-event.ts';
import { taskMessage } from '../../core/task-message.ts';
import type { ServiceModel } from '../model/service-model.ts';
import type { RealSystem } from '../real-system.ts';
import { must, pick } from './observe.ts';
import { Step } from './step.ts';

/** Most live client-created instances a run keeps. */
export const MAX_LIVE_ROOTS = 4;

/** Creates an instance, optionally with a scheduled start `delay` lock lengths ahead. */
export class CreateInstance extends Step {
  constructor(readonly delay: number | undefined) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const roots = m.orch.liveInstances.filter((i) => i.root);
    if (roots.length >= MAX_LIVE_ROOTS) return;
    const instanceId = m.nextInstanceId();
    const executionId = m.nextExecutionId();
    const notBefore =
      this.delay === undefined
        ? 0
        : r.time.now() + Math.max(1, Math.round(this.delay * r.target.orchestrationLockMs));
    const start = newEvent(
      {
        type: 'ExecutionStarted',
        orchestrationInstance: { instanceId, executionId },
        name: 'Root',
        version: '',
        input: '"in"',
        ...(notBefore > 0 ? { scheduledStartTime: new Date(notBefore).toISOString() } : {}),
      },
      r.time.now(),
    );
    await must(`creating instance '${instanceId}'`, () =>
      r.client.createOrchestration(taskMessage(start, { instanceId, executionId })),
    );
    m.orch.addInstance(instanceId, executionId, m.step, {
      root: true,
      notBefore,
      origin: 'client',
    });
  }

  toString(): string {
    return this.delay === undefined ? 'create' : `create(start in ${this.delay.toFixed(2)} lock)`;
  }
}

/** A client raises an event on a live client-created instance. */
export class SendEvent extends Step {
  constructor(readonly target: number) {
    super();
  }

  protected async exec(m: ServiceModel, r: RealSystem): Promise<void> {
    const inst = pick(
      m.orch.liveInstances.filter((i) => i.root),
      this.target,
    );
    if (!inst) return;
    const name = m.nextEventName();
    const msg = taskMessage(newEvent({ type: 'EventRaised', name, input: '1' }, r.time.now()), {
      instanceId: inst.instanceId,
    });
    await must(`raising ${name} on '${inst.instanceId}'`, () =>
      r.client.sendOrchestrationMessage(msg),
    );
    m.orch.send(
      {
        key: `ev:${name}`,
        instanceId: inst.instanceId,
        executionId: undefined,
        kind: 'event',
        notBefore: 0,
      },
      'client',
      m.step,
    );
  }

  toString(): string {
    return `send(${this.target})`;
  }
}
