import type { AsyncCommand } from 'fast-check';
import type { ServiceModel } from '../model/service-model.ts';
import type { RealSystem } from '../real-system.ts';

export type KitCommand = AsyncCommand<ServiceModel, RealSystem, false>;

/**
 * Base of the kit's commands: always applicable (a command with nothing to
 * act on does nothing), numbered and traced, so a failure names its step.
 */
export abstract class Step implements KitCommand {
  check(_m: Readonly<ServiceModel>): boolean {
    return true;
  }

  async run(m: ServiceModel, r: RealSystem): Promise<void> {
    m.step++;
    const line = m.trace.push(`${m.step}. ${this.toString()}`) - 1;
    const started = Date.now();
    await this.exec(m, r);
    m.trace[line] += ` (${Date.now() - started} ms)`;
  }

  protected abstract exec(m: ServiceModel, r: RealSystem): Promise<void>;

  abstract toString(): string;
}
